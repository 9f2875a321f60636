// The one translation unit that compiles Asio's and Beast's non-template code (their
// documented separate compilation; BOOST_*_SEPARATE_COMPILATION is set project-wide in
// meson.build). Asio's TLS part is in common/kube/asio_ssl_src.cpp so that only the
// programs that use TLS link OpenSSL.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
