using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation.Runspaces;

namespace SyncPool.Pool;

/// <summary>
/// Pools created by cmdlets, so tasks can be found by id from any runspace,
/// named pools can be reused, and pools are shut down on Remove-Module and exit.
/// A pool leaves the registry when it raises <see cref="TaskPool.Closed"/>
/// (disposed, or a per-call pool whose tasks were all removed).
/// </summary>
public static class PoolRegistry
{
    private sealed record Registration(TaskPool Pool, Runspace? Owner);

    private static readonly ConcurrentDictionary<TaskPool, Registration> Pools = new();
    private static readonly object NameGate = new();

    public static void Add(TaskPool pool, Runspace? owner)
    {
        ArgumentNullException.ThrowIfNull(pool);
        lock (NameGate)
        {
            if (pool.Name is { } name && FindByName(name) is { } existing && !ReferenceEquals(existing, pool))
                throw new ArgumentException($"A parallel pool named '{name}' already exists (Pool{existing.Id}). Remove it first or choose another name.");
            Pools[pool] = new Registration(pool, owner);
        }
        pool.Closed += OnClosed;
        if (pool.IsDisposed && pool.TaskCount == 0) Forget(pool);
    }

    private static void OnClosed(object? sender, EventArgs e)
    {
        if (sender is TaskPool pool) Forget(pool);
    }

    public static void Forget(TaskPool pool)
    {
        if (Pools.TryRemove(pool, out _)) pool.Closed -= OnClosed;
    }

    /// <summary>Registered pools, oldest first (per-call pools that released their threads included while they still hold tasks).</summary>
    public static IEnumerable<TaskPool> All => Pools.Keys.OrderBy(p => p.Id);

    /// <summary>Pools that still accept tasks.</summary>
    public static IEnumerable<TaskPool> Open => All.Where(p => !p.IsDisposed && !p.IsSealed);

    public static TaskPool? FindByName(string name) =>
        Pools.Keys.Where(p => !p.IsDisposed).FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Every task of every registered pool, oldest first.</summary>
    public static IEnumerable<ParallelTask> AllTasks => All.SelectMany(p => p.Tasks).OrderBy(t => t.Id);

    public static ParallelTask? FindTask(long id) => AllTasks.FirstOrDefault(t => t.Id == id);

    internal static void DisposeOwnedBy(Runspace? owner)
    {
        foreach (var r in Pools.Values.Where(r => ReferenceEquals(r.Owner, owner)).ToList())
        {
            try { r.Pool.Dispose(); } catch (ObjectDisposedException) { }
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
