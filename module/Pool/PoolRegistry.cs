using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation.Runspaces;

namespace SyncPool.Pool;

/// <summary>
/// Pools created by cmdlets, so tasks can be found by id from any runspace,
/// named pools can be reused, and pools are shut down on Remove-Module and exit.
/// </summary>
public static class PoolRegistry
{
    private sealed record Registration(TaskPool Pool, Runspace? Owner);

    private static readonly ConcurrentDictionary<TaskPool, Registration> Pools = new();

    public static void Add(TaskPool pool, Runspace? owner) => Pools[pool] = new Registration(pool, owner);

    public static void Forget(TaskPool pool) => Pools.TryRemove(pool, out _);

    public static IEnumerable<TaskPool> All => Pools.Keys.Where(p => !p.IsDisposed);

    public static TaskPool? FindByName(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Every task of every live pool, oldest first.</summary>
    public static IEnumerable<ParallelTask> AllTasks => All.SelectMany(p => p.Tasks);

    internal static void DisposeOwnedBy(Runspace? owner)
    {
        foreach (var r in Pools.Values.Where(r => ReferenceEquals(r.Owner, owner)).ToList())
        {
            r.Pool.Dispose();
            Forget(r.Pool);
        }
    }

    internal static void DisposeAll()
    {
        foreach (var pool in Pools.Keys.ToList())
        {
            try { pool.Dispose(); } catch (ObjectDisposedException) { }
            Forget(pool);
        }
    }
}
