# Attempts forbidden (and some allowed) system calls and prints one line per attempt:
# "<probe> ok" or "<probe> <ERRNO name>". Used by SeccompEnforcementTest inside bwrap, with and
# without a compiled filter. argv[1] is a JSON object of system call numbers for this machine's
# architecture (from kavach's table, so the probe needs no table of its own); argv[2:] are the
# probes to run ("all" = every one). Each probe runs in a child process of its own, so one that
# changes the process (unshare, chroot) cannot affect the next, and one the filter kills is
# reported as "killed:SIGSYS".
import ctypes, errno, json, os, socket, sys, threading

NR = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def raw(name_or_nr, *args):
    nr = NR[name_or_nr] if isinstance(name_or_nr, str) else name_or_nr
    conv = [a if not isinstance(a, int) else ctypes.c_long(a) for a in args]
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *conv)
    return r, (ctypes.get_errno() if r == -1 else 0)


def result(r_err):
    r, err = r_err
    return "ok" if r != -1 else errno.errorcode.get(err, str(err))


def fork_like(flags):
    # clone without a new stack behaves like fork: the child leaves at once.
    r, err = raw("clone", flags | 17, 0, 0, 0, 0)  # | SIGCHLD
    if r == 0:
        os._exit(0)
    if r > 0:
        os.waitpid(r, 0)
        return "ok"
    return errno.errorcode.get(err, str(err))


def sock(family, kind=socket.SOCK_STREAM, proto=0):
    try:
        socket.socket(family, kind, proto).close()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def devnull_ioctl(request):
    fd = os.open("/dev/null", os.O_RDONLY)
    c = ctypes.c_char(b"x")
    try:
        return result(raw("ioctl", fd, request, ctypes.addressof(c)))
    finally:
        os.close(fd)


def threads_and_fork():
    out = []
    t = threading.Thread(target=out.append, args=("t",))
    t.start()
    t.join()
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    _, status = os.waitpid(pid, 0)
    return "ok" if out == ["t"] and os.WEXITSTATUS(status) == 7 else "broken"


def mount_tmpfs():
    os.makedirs("/tmp/kavach-probe-mnt", exist_ok=True)
    return result(raw("mount", b"none", b"/tmp/kavach-probe-mnt", b"tmpfs", 0, None))


def i386_getpid():
    # mov eax, 20 (i386 getpid); int 0x80; ret -- an i386 system call from a 64-bit process.
    import mmap
    code = bytes([0xB8, 0x14, 0, 0, 0, 0xCD, 0x80, 0xC3])
    m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    m.write(code)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
    return "ok" if ctypes.CFUNCTYPE(ctypes.c_int)(addr)() == os.getpid() else "wrong"


PROBES = {
    "threads_and_fork": threads_and_fork,
    "unshare_user": lambda: result(raw("unshare", 0x10000000)),
    "unshare_net": lambda: result(raw("unshare", 0x40000000)),
    "clone_newuser": lambda: fork_like(0x10000000),
    "clone_newns": lambda: fork_like(0x00020000),
    "clone_plain": lambda: fork_like(0),
    "clone3": lambda: result(raw("clone3", 0, 0)),
    "setns": lambda: result(raw("setns", -1, 0)),
    "mount": mount_tmpfs,
    "chroot": lambda: result(raw("chroot", b"/")),
    "open_tree": lambda: result(raw("open_tree", -100, b"/", 1)),  # AT_FDCWD, OPEN_TREE_CLONE
    "fsopen": lambda: result(raw("fsopen", b"tmpfs", 0)),
    "sethostname": lambda: result(raw("sethostname", b"kavach", 6)),
    "ptrace_traceme": lambda: result(raw("ptrace", 0, 0, 0, 0)),
    "process_vm_readv": lambda: result(raw("process_vm_readv", os.getpid(), 0, 0, 0, 0, 0)),
    "pidfd_getfd": lambda: result(raw("pidfd_getfd", os.pidfd_open(os.getpid()), 0, 0)),
    "kcmp": lambda: result(raw("kcmp", os.getpid(), os.getpid(), 0, 0, 0)),  # KCMP_FILE fd 0
    "io_uring_setup": lambda: result(raw("io_uring_setup", 1, 0)),
    "keyctl": lambda: result(raw("keyctl", 0, -3, 1)),  # GET_KEYRING_ID, session, create
    "add_key": lambda: result(raw("add_key", b"user", b"kavach-probe", b"x", 1, -2)),
    "bpf": lambda: result(raw("bpf", 0, 0, 0)),
    "perf_event_open": lambda: result(raw("perf_event_open", 0, 0, -1, -1, 0)),
    "userfaultfd": lambda: result(raw("userfaultfd", 1)),  # UFFD_USER_MODE_ONLY
    "personality_no_aslr": lambda: result(raw("personality", 0x0040000)),
    "personality_query": lambda: result(raw("personality", 0xFFFFFFFF)),
    "tiocsti": lambda: devnull_ioctl(0x5412),
    "tiocsti_high_bits": lambda: devnull_ioctl(0x1_0000_5412),
    "tioclinux": lambda: devnull_ioctl(0x541C),
    "tcgets": lambda: devnull_ioctl(0x5401),
    "socket_unix": lambda: sock(socket.AF_UNIX),
    "socket_netlink_route": lambda: sock(socket.AF_NETLINK, socket.SOCK_RAW, 0),
    "socket_inet": lambda: sock(socket.AF_INET),
    "socket_inet6": lambda: sock(socket.AF_INET6),
    "socket_packet": lambda: sock(socket.AF_PACKET, socket.SOCK_RAW, 0),
    "socket_vsock": lambda: sock(40),
    "default_deny": lambda: result(raw("lsm_list_modules", 0, 0, 0)),
    "unknown_number": lambda: result(raw(NR["__max"] + 50)),
    "fatal_x32_getpid": lambda: result(raw(0x40000000 | NR["getpid"])),
    "fatal_i386_getpid": i386_getpid,
}

def run(name):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            outcome = PROBES[name]()
        except OSError as e:
            outcome = errno.errorcode.get(e.errno, str(e.errno))
        os.write(w, outcome.encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        outcome = f.read().decode()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        import signal
        return "killed:" + signal.Signals(os.WTERMSIG(status)).name
    return outcome


names = sys.argv[2:]
if names == ["all"]:
    names = list(PROBES)
for name in names:
    print(name, run(name), flush=True)
