using System;
using System.Text;
using SyncPool.Native;

namespace SyncPool.Table;

/// <summary>
/// Hands the address and credentials of a Redis table to the core, which
/// parses, connects and decides. The password's UTF-8 copy is wiped as soon
/// as the core has taken it; it is never kept on this side.
/// </summary>
internal static class RedisConnect
{
    public static unsafe TableCore Open(string address, string name, bool caseSensitive, string? user, string? password, TimeSpan? lockExpiry)
    {
        byte[] addressBytes = Encoding.UTF8.GetBytes(address);
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        byte[] userBytes = Encoding.UTF8.GetBytes(user ?? "");
        byte[] passwordBytes = Encoding.UTF8.GetBytes(password ?? "");
        try
        {
            // SAFETY: the arrays stay pinned until the call returns; the core copies what it keeps.
            fixed (byte* a = addressBytes)
            fixed (byte* n = nameBytes)
            fixed (byte* u = userBytes)
            fixed (byte* p = passwordBytes)
            {
                var options = new RedisOptionsIn
                {
                    address = SliceByte.From((IntPtr)a, (ulong)addressBytes.Length),
                    name = SliceByte.From((IntPtr)n, (ulong)nameBytes.Length),
                    user = SliceByte.From((IntPtr)u, (ulong)userBytes.Length),
                    password = SliceByte.From((IntPtr)p, (ulong)passwordBytes.Length),
                    has_credential = user is not null || password is not null,
                    case_sensitive = caseSensitive,
                    lock_expiry_ms = lockExpiry is { } expiry ? (ulong)Math.Max(1, Math.Ceiling(expiry.TotalMilliseconds)) : 0,
                };
                return NativeCall.Run(() => TableCore.OpenRedis(options));
            }
        }
        finally
        {
            Array.Clear(passwordBytes);
        }
    }
}
