using System;
using System.Runtime.CompilerServices;
using SyncPool.Native;

namespace SyncPool.Table;

/// <summary>
/// The native calls of the one-key-in, one-value-out shape (a read, a
/// delete), as struct types for <c>SyncTable.KeyedRead</c>'s type argument:
/// the JIT compiles that method once per struct, so each call is direct and
/// inlined, where a function pointer argument left an indirect call.
/// </summary>
internal static class KeyedCalls
{
    public interface ICall
    {
        ResultVoidErrorCode Run(IntPtr table, IntPtr key, IntPtr buffer, IntPtr result);
    }

    /// <summary>A read through the generated binding (a table on a Redis server).</summary>
    public readonly struct Read : ICall
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ResultVoidErrorCode Run(IntPtr table, IntPtr key, IntPtr buffer, IntPtr result) =>
            Interop.table_core_read(table, key, buffer, result);
    }

    /// <summary>A read of an in-process table, without a GC transition (see <see cref="DirectCalls"/>).</summary>
    public readonly struct DirectRead : ICall
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ResultVoidErrorCode Run(IntPtr table, IntPtr key, IntPtr buffer, IntPtr result) =>
            DirectCalls.Read(table, key, buffer, result);
    }

    /// <summary>A delete that hands back the value removed.</summary>
    public readonly struct Delete : ICall
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ResultVoidErrorCode Run(IntPtr table, IntPtr key, IntPtr buffer, IntPtr result) =>
            Interop.table_core_delete(table, key, buffer, result);
    }
}
