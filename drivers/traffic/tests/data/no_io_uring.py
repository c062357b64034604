#!/usr/bin/env python3
"""Runs a command with io_uring_setup(2) blocked by a seccomp filter (it fails with ENOSYS),
as a container's seccomp profile does. Exits 77 where that cannot be arranged (not x86_64,
seccomp unavailable). Usage: no_io_uring.py PROGRAM [ARGS...]"""
import ctypes
import os
import platform
import struct
import sys

if platform.machine() != "x86_64" or len(sys.argv) < 2:
    sys.exit(77)

AUDIT_ARCH_X86_64 = 0xC000003E
NR_IO_URING_SETUP = 425
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
ENOSYS = 38
LD_W_ABS, JEQ_K, RET_K = 0x20, 0x15, 0x06


def insn(code, k, jt=0, jf=0):
    return struct.pack("HBBI", code, jt, jf, k)


program = b"".join([
    insn(LD_W_ABS, 4),                                 # arch
    insn(JEQ_K, AUDIT_ARCH_X86_64, jt=1, jf=0),
    insn(RET_K, RET_ALLOW),
    insn(LD_W_ABS, 0),                                 # syscall number
    insn(JEQ_K, NR_IO_URING_SETUP, jt=0, jf=1),
    insn(RET_K, RET_ERRNO | ENOSYS),
    insn(RET_K, RET_ALLOW),
])


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


buf = ctypes.create_string_buffer(program, len(program))
prog = SockFprog(len(program) // 8, ctypes.addressof(buf))
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
    sys.exit(77)
if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
    sys.exit(77)
os.execv(sys.argv[1], sys.argv[1:])
