using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SyncPool.Native;

namespace SyncPool.Table;

/// <summary>
/// The in-process table's hottest native calls, made without a GC
/// transition (<c>SuppressGCTransition</c>): the thread stays in managed
/// mode while the core runs, which saves most of a call's fixed cost.
/// </summary>
/// <remarks>
/// <para>
/// Allowed only for calls that never run .NET code and never wait long,
/// because the garbage collector cannot stop this thread while it is in the
/// core. For an in-process table, reading a key and incrementing it by a
/// number satisfy both: they take one shard lock of the store, whose holders
/// never run foreign code under it (rust/src/table/store.rs drops live
/// objects, whose release calls back into .NET, only after unlocking), and
/// they neither adopt nor drop a live object themselves. So does a write of
/// a value that is not a live object over a key that holds none. The core
/// decides which calls qualify: <c>table_core_put_plain</c> and
/// <c>table_core_increment_plain</c> refuse, before adopting anything, what
/// would run .NET code, and the caller then makes the ordinary call. A table
/// on a Redis server does network I/O and is never called this way.
/// </para>
/// <para>
/// The exports are the generated bindings' own functions (same signatures);
/// only the way they are called differs.
/// </para>
/// </remarks>
internal static unsafe class DirectCalls
{
    private static readonly delegate* unmanaged[Cdecl, SuppressGCTransition]<IntPtr, IntPtr, IntPtr, IntPtr, ResultVoidErrorCode.Unmanaged> ReadExport =
        (delegate* unmanaged[Cdecl, SuppressGCTransition]<IntPtr, IntPtr, IntPtr, IntPtr, ResultVoidErrorCode.Unmanaged>)Export("table_core_read");

    private static readonly delegate* unmanaged[Cdecl, SuppressGCTransition]<IntPtr, IntPtr, IntPtr, IntPtr, ResultBoolErrorCode.Unmanaged> IncrementPlainExport =
        (delegate* unmanaged[Cdecl, SuppressGCTransition]<IntPtr, IntPtr, IntPtr, IntPtr, ResultBoolErrorCode.Unmanaged>)Export("table_core_increment_plain");

    private static readonly delegate* unmanaged[Cdecl, SuppressGCTransition]<IntPtr, IntPtr, IntPtr, ResultUlongErrorCode.Unmanaged> PutPlainExport =
        (delegate* unmanaged[Cdecl, SuppressGCTransition]<IntPtr, IntPtr, IntPtr, ResultUlongErrorCode.Unmanaged>)Export("table_core_put_plain");

    /// <summary>
    /// <see cref="Interop.table_core_put_plain(IntPtr, IntPtr, IntPtr)"/>: writes
    /// unless the core refuses (version 0, nothing written: a live object, a
    /// value over 4 KB, or a key holding an object; the caller writes with the
    /// ordinary put then).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ResultUlongErrorCode PutPlain(IntPtr table, IntPtr key, IntPtr value) =>
        Managed(PutPlainExport(table, key, value));

    /// <summary><see cref="Interop.table_core_read(IntPtr, IntPtr, IntPtr, IntPtr)"/> of an in-process table.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ResultVoidErrorCode Read(IntPtr table, IntPtr key, IntPtr buffer, IntPtr result) =>
        Managed(ReadExport(table, key, buffer, result));

    /// <summary>
    /// <see cref="Interop.table_core_increment_plain(IntPtr, IntPtr, IntPtr, IntPtr)"/>:
    /// increments unless the delta is a live object (false: nothing changed;
    /// the caller increments with the ordinary call then, which reports it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ResultBoolErrorCode IncrementPlain(IntPtr table, IntPtr key, IntPtr delta, IntPtr sum) =>
        Managed(IncrementPlainExport(table, key, delta, sum));

#pragma warning disable CS0618 // ToManaged is the generated conversion the bindings' own calls use
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ResultVoidErrorCode Managed(ResultVoidErrorCode.Unmanaged result) => result.ToManaged();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ResultUlongErrorCode Managed(ResultUlongErrorCode.Unmanaged result) => result.ToManaged();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ResultBoolErrorCode Managed(ResultBoolErrorCode.Unmanaged result) => result.ToManaged();
#pragma warning restore CS0618

    private static IntPtr Export(string name) => NativeLibrary.GetExport(NativeLibraryLoader.Handle, name);
}
