using System;

namespace SyncPool.Native;

/// <summary>Copies bytes out of Rust-owned vectors in one block (the generated indexer goes byte by byte).</summary>
internal static class NativeBytes
{
    public static unsafe byte[] Copy(VecByte vec)
    {
        if (vec._ptr == IntPtr.Zero || vec._len == 0) return Array.Empty<byte>();
        return new ReadOnlySpan<byte>((void*)vec._ptr, checked((int)vec._len)).ToArray();
    }
}
