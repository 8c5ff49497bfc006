using System;
using System.Collections.Generic;
using SyncPool.Native;
using SyncPool.Table;

namespace SyncPool.Pool;

/// <summary>
/// A pool as PowerShell sees it: a queue with a throttle in the engine (made
/// by New-ParallelPool, or by one Start-ParallelTask call), plus what its
/// runspaces are set up with. Its counts and state are the engine's.
/// </summary>
public sealed class TaskPool
{
    private TaskPool(string? name, bool perCall, RunspaceSettings settings,
        IReadOnlyList<KeyValuePair<string, object?>> variables)
    {
        Name = name;
        IsPerCall = perCall;
        Settings = settings;
        Variables = variables;
        ContextKey = RunspaceContexts.KeyFor(settings);
        CreationTime = DateTime.Now;
    }

    private TaskPool(object notFound)
    {
        NotFoundKey = notFound;
        Name = notFound as string;
        Settings = new RunspaceSettings();
        Variables = Array.Empty<KeyValuePair<string, object?>>();
    }

    /// <summary>
    /// What a -Pool argument naming no pool binds to, so the cmdlet (not the
    /// parameter binder) reports it, as SyncPool.PoolNotFound; never reaches the engine.
    /// </summary>
    internal static TaskPool NotFound(object nameOrId) => new(nameOrId);

    /// <summary>The name or id a -Pool argument gave that matched no pool (see <see cref="NotFound"/>); null for a real pool.</summary>
    internal object? NotFoundKey { get; }

    /// <summary>Makes a pool in the engine (owned by the calling runspace).</summary>
    internal static TaskPool Create(string? name, int throttleLimit, bool perCall, RunspaceSettings settings,
        IReadOnlyList<KeyValuePair<string, object?>> variables, TimeSpan? defaultTimeout)
    {
        TaskEngine.EnsureStarted();
        var pool = new TaskPool(name, perCall, settings, variables);
        ulong registered = ObjectRegistry.Register(pool);
        try
        {
            pool.NativeId = NativeCall.Run(() => NativeArgs.WithUtf8(name, text => Interop.syncpool_pool_create(new PoolOptionsIn
            {
                throttle = (uint)throttleLimit,
                context_key = pool.ContextKey,
                default_timeout_ms = NativeArgs.TimeoutMs(defaultTimeout),
                per_call = perCall,
                owner = TaskEngine.CurrentOwner,
                name = text,
                host_object = registered,
            }).AsOk()));
        }
        catch
        {
            ObjectRegistry.Forget(registered);
            throw;
        }
        pool.ThrottleLimit = (int)pool.Info().throttle;
        return pool;
    }

    /// <summary>Unique in the process.</summary>
    public long Id => (long)NativeId;

    public string? Name { get; }

    /// <summary>
    /// Tasks of the pool that run at once, fixed for its lifetime: what the
    /// engine gave it when it was made (its default for a pool made without
    /// -ThrottleLimit, not the 0 it was asked for). Read then, because the
    /// engine forgets a pool once it is removed.
    /// </summary>
    public int ThrottleLimit { get; private set; }

    /// <summary>Made for one Start-ParallelTask call rather than by New-ParallelPool.</summary>
    public bool IsPerCall { get; }

    public DateTime CreationTime { get; }

    /// <summary>What its runspaces are set up with (modules, functions), for display.</summary>
    public RunspaceSettings Settings { get; }

    /// <summary>The timeout of tasks started without -TimeoutSeconds (New-ParallelPool -TimeoutSeconds).</summary>
    public TimeSpan? DefaultTimeout
    {
        get
        {
            ulong ms = Info().default_timeout_ms;
            return ms == 0 ? null : TimeSpan.FromMilliseconds(ms);
        }
    }

    /// <summary>How many of its listed tasks are in each state, and how many workers serve it now.</summary>
    public PoolCounts Counts
    {
        get
        {
            var i = Info();
            return new PoolCounts((long)i.queued, (long)i.running, (long)i.completed, (long)i.failed, (long)i.stopped, (long)i.timed_out,
                (long)i.workers, (long)i.abandoned_workers);
        }
    }

    /// <summary>True once removed (Remove-ParallelPool), or, made for one call, done and emptied.</summary>
    public bool IsRemoved => Info().removed.Is;

    public override string ToString() => Name is null ? $"Pool{Id}" : $"{Name} (Pool{Id})";

    // ---- for the engine adapter ------------------------------------------------------------

    internal ulong NativeId { get; private set; }

    /// <summary>Which warm runspaces its tasks can use (see <see cref="RunspaceContexts"/>).</summary>
    internal ulong ContextKey { get; }

    /// <summary>Variables every task of the pool starts with (New-ParallelPool -Variable).</summary>
    internal IReadOnlyList<KeyValuePair<string, object?>> Variables { get; }

    /// <summary>
    /// Queues one task per item (all running <paramref name="script"/>), in
    /// order; <paramref name="timeout"/> null takes the pool's default.
    /// </summary>
    internal ParallelTask Submit(TaskScript script, object? input, bool hasInput, TimeSpan? timeout, string? name)
    {
        var task = new ParallelTask(this, script, name, input, hasInput);
        TaskRef native;
        try
        {
            native = NativeCall.Run(() => TaskRef.Submit(NativeId, script.GroupId, NativeArgs.TimeoutMs(timeout), task.RegistryId));
        }
        catch
        {
            ObjectRegistry.Forget(task.RegistryId);
            throw;
        }
        task.Attach(native);
        return task;
    }

    /// <summary>Queues one task per item, in order, with one crossing for all of them.</summary>
    internal IReadOnlyList<ParallelTask> Submit(TaskScript script, IReadOnlyList<(object? Input, bool HasInput)> items, TimeSpan? timeout, string? name)
    {
        var tasks = new ParallelTask[items.Count];
        var ids = new ulong[items.Count];
        for (int i = 0; i < tasks.Length; i++)
        {
            tasks[i] = new ParallelTask(this, script, name, items[i].Input, items[i].HasInput);
            ids[i] = tasks[i].RegistryId;
        }
        ulong first;
        try
        {
            first = NativeCall.Run(() => NativeArgs.WithIds(ids, slice => Interop.syncpool_task_submit(NativeId, script.GroupId, NativeArgs.TimeoutMs(timeout), slice).AsOk()));
        }
        catch
        {
            foreach (ulong id in ids) ObjectRegistry.Forget(id);
            throw;
        }
        for (int i = 0; i < tasks.Length; i++)
        {
            ulong id = first + (ulong)i;
            tasks[i].Attach(NativeCall.Run(() => TaskRef.Attach(NativeId, id)));
        }
        return tasks;
    }

    /// <summary>No more tasks (the call that made this per-call pool is over).</summary>
    internal void Seal() => NativeCall.Run(() => Interop.syncpool_pool_seal(NativeId).AsOk());

    /// The call that submitted <paramref name="script"/>'s tasks has ended: the engine stops waiting for more of them.
    internal void EndCall(TaskScript script) => NativeCall.Run(() => Interop.syncpool_group_end(NativeId, script.GroupId).AsOk());

    /// <summary>Removes the pool: its unfinished tasks end Stopped; it and its tasks leave the lists.</summary>
    internal void Remove() => NativeCall.Run(() => Interop.syncpool_pool_remove(NativeId).AsOk());

    private PoolInfoOut Info() => NativeCall.Run(() => Interop.syncpool_pool_info(NativeId).AsOk());
}
