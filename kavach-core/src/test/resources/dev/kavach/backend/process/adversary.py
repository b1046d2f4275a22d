# Escape attempts run inside a sandbox by ProcessAdversarialTest. Each attempt prints one line:
# "OK <detail>" when the operation succeeded, "ERR <ERRNO NAME>" when it failed, so the test can
# assert the exact failure. Raw syscalls go through ctypes so nothing in between (a shell, a
# library fallback) changes the errno.
import ctypes
import errno
import os
import socket
import struct
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

CLONE_NEWUSER = 0x10000000
CLONE_NEWNS = 0x00020000
PTRACE_ATTACH = 16
X32_BIT = 0x40000000
SYS = {"getpid": 39, "io_uring_setup": 425, "bpf": 321, "perf_event_open": 298,
       "keyctl": 250, "add_key": 248, "userfaultfd": 323, "personality": 135,
       "open_by_handle_at": 304, "kexec_load": 246, "init_module": 175, "setns": 308,
       "process_vm_readv": 310, "pivot_root": 155, "chroot": 161, "unshare": 272,
       "ptrace": 101, "mount": 165, "fsopen": 430, "open_tree": 428}


def err(e):
    print("ERR " + errno.errorcode.get(e, str(e)))


def sysc(name, *args):
    r = libc.syscall(SYS[name], *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    if r < 0:
        err(ctypes.get_errno())
    else:
        print("OK %d" % r)


def attempt(fn):
    try:
        fn()
    except OSError as e:
        err(e.errno)


def write_file(path):
    def go():
        with open(path, "w") as f:
            f.write("pwned")
        print("OK wrote " + path)
    attempt(go)


def read_file(path):
    def go():
        with open(path, "rb") as f:
            data = f.read(64)
        print("OK read %d bytes" % len(data))
    attempt(go)


def connect_tcp(host, port):
    def go():
        s = socket.create_connection((host, int(port)), timeout=3)
        s.close()
        print("OK connected")
    attempt(go)


def connect_abstract(name):
    def go():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect("\0" + name)
        print("OK connected")
    attempt(go)


def mount_tmpfs(target):
    r = libc.mount(b"none", target.encode(), b"tmpfs", ctypes.c_ulong(0), None)
    if r != 0:
        err(ctypes.get_errno())
    else:
        print("OK mounted")


def remount_root_rw():
    MS_REMOUNT = 32
    MS_BIND = 4096
    r = libc.mount(None, b"/", None, ctypes.c_ulong(MS_REMOUNT | MS_BIND), None)
    if r != 0:
        err(ctypes.get_errno())
    else:
        print("OK remounted")


def umount(target):
    r = libc.umount2(target.encode(), 2)  # MNT_DETACH
    if r != 0:
        err(ctypes.get_errno())
    else:
        print("OK unmounted")


def ptrace(pid):
    r = libc.ptrace(ctypes.c_long(PTRACE_ATTACH), ctypes.c_long(int(pid)), None, None)
    if r != 0:
        err(ctypes.get_errno())
    else:
        print("OK attached")


def kill(pid, sig):
    attempt(lambda: (os.kill(int(pid), int(sig)), print("OK signalled")))


def tiocsti(fd_or_path):
    import fcntl
    import termios
    def go():
        fd = os.open(fd_or_path, os.O_RDWR) if fd_or_path.startswith("/") else int(fd_or_path)
        fcntl.ioctl(fd, termios.TIOCSTI, b"x")
        print("OK injected")
    attempt(go)


def mknod(path):
    attempt(lambda: (os.mknod(path, 0o600 | 0o020000, os.makedev(1, 3)), print("OK created")))


def setuid0():
    attempt(lambda: (os.setuid(0), print("OK uid 0")))


def chroot(path):
    attempt(lambda: (os.chroot(path), print("OK chrooted")))


def sethostname(name):
    r = libc.sethostname(name.encode(), len(name))
    if r != 0:
        err(ctypes.get_errno())
    else:
        print("OK renamed")


def cap_raise():
    PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN = 47, 2, 21
    r = libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0)
    if r != 0:
        err(ctypes.get_errno())
    else:
        print("OK raised")


def x32_getpid():
    sysc_raw(X32_BIT | SYS["getpid"])


def sysc_raw(nr):
    r = libc.syscall(ctypes.c_long(nr))
    if r < 0:
        err(ctypes.get_errno())
    else:
        print("OK %d" % r)


def io_uring():
    params = ctypes.create_string_buffer(120)
    sysc("io_uring_setup", 4, params)


def bpf():
    # BPF_MAP_CREATE of a one-entry array: valid, so only permission can refuse it.
    attr = ctypes.create_string_buffer(struct.pack("IIII", 2, 4, 4, 1) + b"\0" * 112)
    sysc("bpf", 0, attr, 128)


def perf_event_open():
    attr = ctypes.create_string_buffer(struct.pack("IIQ", 1, 128, 0) + b"\0" * 112)
    sysc("perf_event_open", attr, 0, -1, -1, 0)


def keyctl():
    sysc("add_key", b"user", b"kavach", b"x", 1, -2)  # into KEY_SPEC_PROCESS_KEYRING


def userfaultfd():
    sysc("userfaultfd", 0)


def process_vm_readv(pid):
    local = (ctypes.c_char * 8)()
    iov = struct.pack("PN", ctypes.addressof(local), 8)
    sysc("process_vm_readv", int(pid), iov, 1, iov, 1, 0)


def personality():
    sysc("personality", 0x0040000)  # ADDR_NO_RANDOMIZE


def fork_bomb(limit):
    # Forks children that sleep, counting how many the kernel allows; reports the errno of the
    # first refusal.
    n = 0
    for _ in range(int(limit)):
        try:
            pid = os.fork()
        except OSError as e:
            print("ERR %s after %d" % (errno.errorcode.get(e.errno), n))
            return
        if pid == 0:
            import time
            time.sleep(30)
            os._exit(0)
        n += 1
    print("OK forked %d" % n)


def memory_hog(mb):
    chunks = []
    for _ in range(int(mb)):
        chunks.append(b"x" * (1024 * 1024))
    print("OK allocated %d MB" % len(chunks))


def spin(seconds):
    import time
    end = time.time() + float(seconds)
    while time.time() < end:
        pass
    print("OK spun")


ATTEMPTS = {
    "write": write_file, "read": read_file, "connect": connect_tcp,
    "connect-abstract": connect_abstract, "mount": mount_tmpfs, "remount-root": remount_root_rw,
    "umount": umount, "ptrace": ptrace, "kill": kill, "tiocsti": tiocsti, "mknod": mknod,
    "setuid0": setuid0, "chroot": chroot, "sethostname": sethostname, "cap-raise": cap_raise,
    "x32": x32_getpid, "io-uring": io_uring, "bpf": bpf, "perf": perf_event_open,
    "keyctl": keyctl, "process-vm-readv": process_vm_readv, "userfaultfd": userfaultfd, "personality": personality,
    "unshare-user": lambda: sysc("unshare", CLONE_NEWUSER),
    "unshare-mount": lambda: sysc("unshare", CLONE_NEWNS),
    "fork-bomb": fork_bomb, "memory-hog": memory_hog, "spin": spin,
}

if __name__ == "__main__":
    ATTEMPTS[sys.argv[1]](*sys.argv[2:])
    sys.stdout.flush()
