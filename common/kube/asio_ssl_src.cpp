// Asio's TLS (OpenSSL) non-template code, compiled once: the counterpart of
// common/boost_src.cpp for boost/asio/ssl, kept apart so only TLS users link OpenSSL.
#include <boost/asio/ssl/impl/src.hpp>
