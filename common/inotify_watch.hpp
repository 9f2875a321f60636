// inotify on one directory, driven by an Asio io_context (serve's): the records directory and the
// directory holding the readiness file. Watching the directory (not the file) sees files
// replaced by rename, which is how the store and careful writers update them.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace anycast::common {

class InotifyWatch {
public:
    // Called once per event on the loop's thread: the entry's name (empty for the directory
    // itself or an IN_Q_OVERFLOW, when events were lost and everything must be re-read).
    using Handler = std::function<void(std::string_view name, std::uint32_t mask)>;

    // Throws SystemError naming the directory when it cannot be watched.
    InotifyWatch(boost::asio::io_context& io, const std::string& directory, std::uint32_t mask, Handler handler);
    ~InotifyWatch();
    InotifyWatch(const InotifyWatch&) = delete;
    InotifyWatch& operator=(const InotifyWatch&) = delete;

    const std::string& directory() const { return directory_; }

private:
    void arm();
    void drain();

    std::string directory_;
    Handler handler_;
    boost::asio::posix::stream_descriptor descriptor_;  // owns the inotify fd
};

}  // namespace anycast::common
