using System.Collections.Concurrent;
using System.Threading;
using SyncPool.Native;

namespace SyncPool.Table;

/// <summary>
/// Live .NET objects stored in tables ($t.Host = $host). The native store
/// holds only an id; this registry holds the object until the core says the
/// last stored copy is gone (overwritten, removed, cleared, table disposed).
/// Objects therefore come back as the very same instances in every runspace.
/// </summary>
internal static class ObjectRegistry
{
    private static readonly ConcurrentDictionary<ulong, object> Objects = new();
    private static long _nextId;
    private static readonly object InstallGate = new();
    private static bool _installed;

    /// <summary>Objects currently kept alive for tables.</summary>
    public static int Count => Objects.Count;

    /// <summary>Hooks the core's release notifications up (once per process).</summary>
    public static void EnsureInstalled()
    {
        if (Volatile.Read(ref _installed)) return;
        lock (InstallGate)
        {
            if (_installed) return;
            NativeLibraryLoader.EnsureLoaded();
            // The delegate must never throw: the generated trampoline would swallow it.
            Interop.syncpool_set_object_releaser(new ObjectReleasedDelegate(id => Objects.TryRemove(id, out _)));
            Volatile.Write(ref _installed, true);
        }
    }

    /// <summary>Drops an id whose native call failed (idempotent: the core may have released it already).</summary>
    public static void Forget(ulong id) => Objects.TryRemove(id, out _);

    public static ulong Register(object value)
    {
        ulong id = (ulong)Interlocked.Increment(ref _nextId);
        Objects[id] = value;
        return id;
    }

    /// <summary>The object registered under <paramref name="id"/>, for callers the core guarantees it is alive to (no lease).</summary>
    public static object? Get(ulong id) => Objects.TryGetValue(id, out var value) ? value : null;

    /// <summary>Fetches the object behind a lease, then ends the lease.</summary>
    public static object? Take(ObjectLease lease) => Take(lease.id, lease.lease);

    /// <summary>Fetches object <paramref name="id"/>, which <paramref name="lease"/> keeps registered, then ends the lease.</summary>
    public static object? Take(ulong id, ulong lease)
    {
        try
        {
            return Objects.TryGetValue(id, out var value) ? value : null;
        }
        finally
        {
            Interop.syncpool_object_lease_end(lease);
        }
    }
}
