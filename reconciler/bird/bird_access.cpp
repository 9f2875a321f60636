#include "reconciler/bird/bird_access.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace anycast::reconciler {

namespace {

std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// Connects and closes at once: BIRD greets and waits for a command, nothing else happens.
int connect_error(const std::string& path) {
    sockaddr_un address{};
    if (path.size() >= sizeof address.sun_path) return ENAMETOOLONG;
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return errno;
    const int result = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    const int error = result == 0 ? 0 : errno;
    ::close(fd);
    return error;
}

}  // namespace

std::vector<std::string> bird_access_problems(const common::BirdSettings& bird) {
    std::vector<std::string> problems;
    const std::string directory = directory_of(bird.fragment);
    // AT_EACCESS: as this process, effective ids and capabilities, decides.
    if (::faccessat(AT_FDCWD, directory.c_str(), W_OK | X_OK, AT_EACCESS) != 0) {
        problems.push_back("cannot write the include " + bird.fragment + ": " + directory + ": " +
                           std::strerror(errno) +
                           " (serve writes a temporary file there and renames it: give it a directory it may write, "
                           "e.g. a bird:bird 0770 /etc/bird/flock with serve in group bird, or CAP_DAC_OVERRIDE)");
    }
    if (const int error = connect_error(bird.socket); error != 0) {
        problems.push_back("cannot reach BIRD's control socket " + bird.socket + ": " + std::strerror(error) +
                           (error == EACCES ? " (it is bird:bird 0660 on Debian: run serve in group bird)"
                                            : " (is BIRD running, with this socket?)"));
    }
    return problems;
}

}  // namespace anycast::reconciler
