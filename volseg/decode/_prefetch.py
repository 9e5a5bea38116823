"""A numba intrinsic for LLVM's software prefetch (numba has none built in).

The flood kernels are bound by memory latency: the voxels popped at one level lie all over the
volume. Their FIFOs tell which voxels come next, so the kernels prefetch those voxels' rows a
few pops ahead; this hides most of the cache misses.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_I8P = ir.IntType(8).as_pointer()
# LLVM mangles the pointer type into the intrinsic's name: ".p0" with opaque pointers (newer
# llvmlite), ".p0i8" with typed ones.
_NAME = "llvm.prefetch.p0" if getattr(_I8P, "is_opaque", False) else "llvm.prefetch.p0i8"


@intrinsic
def prefetch(typingctx, arr, idx):
    """Hint the CPU to fetch the line of ``arr[idx]`` for writing; no bounds check."""
    if not isinstance(arr, types.Array) or not isinstance(idx, types.Integer):
        return None
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        index = context.cast(builder, args[1], signature.args[1], types.intp)
        ptr = builder.bitcast(builder.gep(ary.data, [index]), _I8P)
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [_I8P, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, _NAME)
        # args: address, rw = 1 (the line will be written), locality = 3 (all caches), data cache
        builder.call(fn, [ptr, ir.Constant(i32, 1), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen
