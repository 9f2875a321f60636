#include "test/support/containerd_lab.hpp"

#include "test/support/netns.hpp"
#include "test/support/oci_image.hpp"
#include "test/support/wait_until.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace anycast::test {

namespace fs = std::filesystem;

namespace {

constexpr const char* k_tools[] = {"containerd", "ctr", "runc", "containerd-shim-runc-v2"};

bool in_path(const std::string& program) { return sh_result("command -v " + program + " >/dev/null").exit_code == 0; }

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

// A /proc/<pid>/cmdline with its NULs turned into spaces ("" when the process is gone).
std::string command_line(const std::string& pid) {
    std::string text = read_file("/proc/" + pid + "/cmdline");
    for (char& c : text) {
        if (c == '\0') c = ' ';
    }
    return text;
}

// The parent pid field of /proc/<pid>/stat, after the parenthesised command name.
std::string parent_pid(const std::string& pid) {
    const std::string stat = read_file("/proc/" + pid + "/stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos) return {};
    std::istringstream rest(stat.substr(close + 1));
    std::string state, ppid;
    rest >> state >> ppid;
    return ppid;
}

std::vector<std::string> process_ids() {
    std::vector<std::string> ids;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator("/proc", error)) {
        const std::string name = entry.path().filename();
        if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) ids.push_back(name);
    }
    return ids;
}

}  // namespace

std::string ContainerdLab::missing() {
    std::string missing;
    for (const char* tool : k_tools) {
        if (!in_path(tool)) missing += std::string(missing.empty() ? "" : ", ") + tool;
    }
    if (!fs::is_regular_file(k_static_busybox)) missing += std::string(missing.empty() ? "" : ", ") + k_static_busybox;
    return missing;
}

ContainerdLab::ContainerdLab() : namespace_(unique_name("ct")), socket_(dir_.file("containerd.sock")) {
    try {
        // Where containerd, its shims, runc, ctr and libcni write outside their own dirs:
        // /run/containerd (shim sockets, runc state), /var/lib/cni (libcni's result cache),
        // and /etc/cni, /opt/cni, which ctr reads and which need not exist on the host.
        mounts_.tmpfs("/run");
        mounts_.overlay("/etc", dir_.file("overlay/etc"), dir_.file("overlay/etc.work"));
        mounts_.overlay("/opt", dir_.file("overlay/opt"), dir_.file("overlay/opt.work"));
        mounts_.overlay("/var/lib", dir_.file("overlay/var-lib"), dir_.file("overlay/var-lib.work"));
        fs::create_directories(k_cni_config_dir);
        fs::create_directories(k_cni_plugin_dir);
        fs::create_symlink(flock_binary(), fs::path(k_cni_plugin_dir) / "flock-anycast");

        // No CRI plugin: ctr needs none, and it would watch /etc/cni/net.d itself.
        const std::string config =
            dir_.write("containerd.toml", "version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n");
        fs::create_directories(dir_.file("tmp"));
        containerd_ = std::make_unique<BackgroundProcess>(
            std::vector<std::string>{"env", "TMPDIR=" + dir_.file("tmp"), "containerd", "--config", config, "--root",
                                     dir_.file("root"), "--state", dir_.file("state"), "--address", socket_},
            dir_.file("containerd.log"));
        if (!wait_until([&] { return containerd_->alive() && ctr({"version"}, 5).exit_code == 0; },
                        std::chrono::seconds(20), std::chrono::milliseconds(50))) {
            throw std::runtime_error("containerd did not answer on " + socket_ + " within 20 s:\n" + containerd_log());
        }
        const std::string archive = dir_.file("busybox-oci.tar");
        write_busybox_oci_archive(dir_.file("image"), archive);
        ctr_ok({"image", "import", "--index-name", k_image, archive}, 60);
    } catch (...) {
        // The destructor does not run for a constructor that throws: clean up what is there.
        remove_containers();
        if (containerd_) containerd_.reset();
        kill_leftover_processes();
        detach_mounts_under(dir_.path());
        throw;
    }
}

ContainerdLab::~ContainerdLab() {
    remove_containers();
    containerd_.reset();  // SIGTERM, then SIGKILL after 2 s, reaped
    kill_leftover_processes();
    remove_cgroups();
    // The shims' rootfs mounts live in our namespace and outlive a killed shim.
    detach_mounts_under(dir_.path());
}

std::string ContainerdLab::write_conflist(const std::string& file_name, const std::string& text) const {
    const std::string path = std::string(k_cni_config_dir) + "/" + file_name;
    std::ofstream out(path);
    out << text;
    if (!out.flush()) throw std::runtime_error("write " + path);
    return path;
}

ProcessResult ContainerdLab::ctr(const std::vector<std::string>& args, double timeout_seconds) const {
    std::vector<std::string> argv = {"ctr", "--address", socket_, "-n", namespace_};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, {.env = std::nullopt, .stdin_text = {}, .timeout_seconds = timeout_seconds});
}

std::string ContainerdLab::ctr_ok(const std::vector<std::string>& args, double timeout_seconds) const {
    const ProcessResult result = ctr(args, timeout_seconds);
    if (result.exit_code != 0) {
        std::string command = "ctr";
        for (const auto& arg : args) command += " " + arg;
        throw std::runtime_error(command + ": exit code " + std::to_string(result.exit_code) + "\n" + result.out +
                                 result.err);
    }
    return result.out;
}

std::unique_ptr<BackgroundProcess> ContainerdLab::run_attached(const std::string& id,
                                                               const std::vector<std::string>& command) {
    std::vector<std::string> argv = {"ctr",   "--address", socket_,     "-n",    namespace_, "run",
                                     "--cni", "--rm",      "--null-io", k_image, id};
    argv.insert(argv.end(), command.begin(), command.end());
    containers_.push_back(id);
    return std::make_unique<BackgroundProcess>(argv, dir_.file("ctr-" + id + ".log"));
}

void ContainerdLab::run_detached(const std::string& id, const std::vector<std::string>& command) {
    std::vector<std::string> args = {"run", "--cni", "-d", "--null-io", k_image, id};
    args.insert(args.end(), command.begin(), command.end());
    containers_.push_back(id);
    ctr_ok(args, 60);
}

pid_t ContainerdLab::task_pid(const std::string& id) const {
    // `ctr task ls`: "TASK PID STATUS" then one line per task.
    std::istringstream lines(ctr_ok({"task", "ls"}));
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string task, pid, status;
        fields >> task >> pid >> status;
        if (task == id && status == "RUNNING") return static_cast<pid_t>(std::stol(pid));
    }
    return 0;
}

std::string ContainerdLab::exec(const std::string& id, const std::string& command) {
    return ctr_ok({"task", "exec", "--exec-id", "exec" + std::to_string(++exec_count_), id, "sh", "-c", command});
}

std::string ContainerdLab::containerd_log() const { return read_file(dir_.file("containerd.log")); }

void ContainerdLab::remove_containers() noexcept {
    if (!containerd_ || !containerd_->alive()) return;
    for (const auto& id : containers_) {
        try {
            ctr({"task", "kill", "-s", "SIGKILL", id}, 10);
            // Until the task is stopped, `task rm` refuses it.
            wait_until([&] { return task_pid(id) == 0; }, std::chrono::seconds(5));
            ctr({"task", "rm", "-f", id}, 10);
            ctr({"container", "rm", id}, 10);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "ContainerdLab: removing container %s: %s\n", id.c_str(), e.what());
        }
    }
}

void ContainerdLab::kill_leftover_processes() const noexcept {
    try {
        // Shims outlive containerd by design; each names our socket on its command line. Their
        // children are the containers' init processes.
        std::set<std::string> shims;
        const auto pids = process_ids();
        for (const auto& pid : pids) {
            if (command_line(pid).find(" " + socket_) != std::string::npos) shims.insert(pid);
        }
        if (shims.empty()) return;
        for (const auto& pid : pids) {
            if (shims.count(parent_pid(pid)) != 0) ::kill(static_cast<pid_t>(std::stol(pid)), SIGKILL);
        }
        for (const auto& pid : shims) {
            std::fprintf(stderr, "ContainerdLab: killing leftover %s: %s\n", pid.c_str(), command_line(pid).c_str());
            ::kill(static_cast<pid_t>(std::stol(pid)), SIGKILL);
        }
        wait_until(
            [&] {
                for (const auto& pid : shims) {
                    if (fs::exists("/proc/" + pid)) return false;
                }
                return true;
            },
            std::chrono::seconds(5));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ContainerdLab: looking for leftover processes: %s\n", e.what());
    }
}

void ContainerdLab::remove_cgroups() const noexcept {
    // runc makes /<namespace>/<container> in every hierarchy (cgroup v1 controllers or the v2
    // root) and removes only the container's level. rmdir removes nothing but empty cgroups.
    std::vector<fs::path> roots = {"/sys/fs/cgroup"};
    std::error_code error;
    for (const auto& entry : fs::directory_iterator("/sys/fs/cgroup", error)) {
        if (entry.is_directory(error) && !entry.is_symlink(error)) roots.push_back(entry.path());
    }
    for (const auto& root : roots) {
        const fs::path ours = root / namespace_;
        if (!fs::is_directory(ours, error)) continue;
        for (const auto& child : fs::directory_iterator(ours, error)) {
            if (child.is_directory(error)) ::rmdir(child.path().c_str());
        }
        if (::rmdir(ours.c_str()) != 0) std::perror(("ContainerdLab: rmdir " + ours.string()).c_str());
    }
}

}  // namespace anycast::test
