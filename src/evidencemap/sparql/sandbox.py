"""Keep the /sparql worker processes off the network and within a memory limit (issue 9).

Two independent defences, applied in the zygote (and so inherited by every worker it forks):

- :func:`isolate_network`: new, empty user and network namespaces (no interface but a down loopback), when the
  kernel allows unprivileged user namespaces; containers often refuse them.
- :func:`deny_network`: a seccomp filter (which needs no privilege) that makes ``socket()`` and ``socketpair()``
  fail with ``EACCES`` for every address family but ``AF_UNIX``, and ``connect()`` and ``io_uring_setup()`` fail
  for every socket: the workers only use the socket they inherit, so nothing can reach another host, a DNS server
  or a local resolver daemon. The filter is written for x86_64 and aarch64 only; elsewhere it is not installed and
  the function says so (the pool then refuses to serve unless told otherwise: fail closed).

:func:`limit_memory` caps the address space of a worker at its size when forked (the store it shares with the
zygote included) plus a budget, so a query that would need more fails in that worker instead of exhausting the
machine.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import resource
import socket
import sys

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

# Classic BPF over struct seccomp_data {int nr; u32 arch; u64 instruction_pointer; u64 args[6];}
BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_JGE_K = 0x35
BPF_RET_K = 0x06
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_KILL_PROCESS = 0x80000000
OFFSET_NR, OFFSET_ARCH, OFFSET_ARG0 = 0, 4, 16
X32_SYSCALL_BIT = 0x40000000


class SyscallTable:
    def __init__(self, audit_arch: int, socket: int, socketpair: int, connect: int, io_uring_setup: int,
                 *, x32_bit: bool) -> None:
        self.audit_arch = audit_arch
        self.socket = socket
        self.socketpair = socketpair
        self.connect = connect
        self.io_uring_setup = io_uring_setup
        self.x32_bit = x32_bit


# The numbers of the system calls the filter checks (Linux's unistd.h of each architecture).
SYSCALLS = {
    "x86_64": SyscallTable(0xC000003E, socket=41, socketpair=53, connect=42, io_uring_setup=425, x32_bit=True),
    "aarch64": SyscallTable(0xC00000B7, socket=198, socketpair=199, connect=203, io_uring_setup=425, x32_bit=False),
}


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def network_filter(table: SyscallTable) -> list[tuple[int, int, int, int]]:
    """The BPF program, as (code, jump if true, jump if false, k) instructions."""
    deny = SECCOMP_RET_ERRNO | errno.EACCES
    program: list[tuple[int, int, int, int]] = [
        (BPF_LD_W_ABS, 0, 0, OFFSET_ARCH),
        (BPF_JEQ_K, 1, 0, table.audit_arch),
        (BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS),  # a system call of another ABI: never made by a worker
        (BPF_LD_W_ABS, 0, 0, OFFSET_NR),
    ]
    checks = [(table.socket, "family"), (table.socketpair, "family"), (table.connect, "deny"),
              (table.io_uring_setup, "deny")]
    # After the checks: [allow] [load family] [family is AF_UNIX?] [allow] [deny]
    rest = len(checks) + (1 if table.x32_bit else 0)
    if table.x32_bit:
        program.append((BPF_JGE_K, rest + 3, 0, X32_SYSCALL_BIT))  # the x32 ABI's numbers: deny
    for index, (number, target) in enumerate(checks):
        remaining = len(checks) - index - 1  # checks after this one
        to_family = remaining + 1  # skip the remaining checks and the allow
        to_deny = remaining + 4
        program.append((BPF_JEQ_K, to_family if target == "family" else to_deny, 0, number))
    program += [
        (BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
        (BPF_LD_W_ABS, 0, 0, OFFSET_ARG0),
        (BPF_JEQ_K, 0, 1, socket.AF_UNIX),
        (BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
        (BPF_RET_K, 0, 0, deny),
    ]
    return program


def deny_network() -> bool:
    """Install the seccomp filter in this process (and its future children); False when it cannot be (another
    architecture, another OS, or a kernel without seccomp)."""
    table = SYSCALLS.get(platform.machine())
    if not sys.platform.startswith("linux") or table is None:
        return False
    instructions = network_filter(table)
    filters = (_SockFilter * len(instructions))(*(_SockFilter(*i) for i in instructions))
    program = _SockFprog(len(instructions), ctypes.cast(filters, ctypes.POINTER(_SockFilter)))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return bool(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0) == 0)


def isolate_network() -> bool:
    """Move this (single-threaded) process into empty user and network namespaces; False when not permitted."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return bool(libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0)


def address_space_bytes() -> int:
    """This process's virtual memory size (``VmSize``); 0 when unknown."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def limit_memory(budget_bytes: int) -> int:
    """Cap this process's address space at its current size plus ``budget_bytes``; the cap, or 0 when not set."""
    current = address_space_bytes()
    if budget_bytes <= 0 or not current:
        return 0
    cap = current + budget_bytes
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    return cap
