using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using SyncPool.Native;
using SyncPool.Table;

namespace SyncPool.Pool;

/// <summary>
/// The C# side of the process's task engine: starts it once with the
/// callbacks that make this module its host (run a batch, stop a task,
/// dispose of a runspace), and finds the objects it lists.
/// </summary>
/// <remarks>
/// Each callback catches everything: an exception escaping into the native
/// trampoline would be swallowed and read as a default answer. Failures that
/// have no task to carry them become internal errors the next cmdlet reports.
/// </remarks>
internal static class TaskEngine
{
    private static readonly object Gate = new();
    private static bool _started;

    // The delegates stay referenced for the life of the process: the engine calls them from its threads.
    private static RunBatchDelegate? _run;
    private static StopTaskDelegate? _stop;
    private static DisposeContextDelegate? _dispose;

    private static readonly List<string> HostFaults = new();

    public static void EnsureStarted()
    {
        if (_started) return;
        lock (Gate)
        {
            if (_started) return;
            NativeLibraryLoader.EnsureLoaded();
            ObjectRegistry.EnsureInstalled();
            _run = BatchRunner.Run;
            _stop = OnStop;
            _dispose = OnDisposeContext;
            NativeCall.Run(() => Interop.syncpool_engine_start(new RunBatch(_run), new StopTask(_stop), new DisposeContext(_dispose)).AsOk());
            _started = true;
        }
    }

    /// <summary>Who owns the pools made now: the calling runspace (they go when it removes the module).</summary>
    public static ulong CurrentOwner => OwnerOf(Runspace.DefaultRunspace);

    public static ulong OwnerOf(Runspace? runspace) =>
        runspace is null ? 0 : (ulong)BitConverter.ToInt64(runspace.InstanceId.ToByteArray(), 0);

    /// <summary>Every listed pool, oldest first.</summary>
    public static List<TaskPool> Pools()
    {
        EnsureStarted();
        using var leases = NativeCall.Run(() => Interop.syncpool_pool_list().AsOk());
        var pools = new List<TaskPool>(leases.Count);
        for (int i = 0; i < leases.Count; i++)
            if (ObjectRegistry.Take(leases[i]) is TaskPool pool) pools.Add(pool);
        return pools;
    }

    public static TaskPool? FindPool(string name)
    {
        EnsureStarted();
        var lease = NativeCall.Run(() => NativeArgs.WithUtf8(name, text => Interop.syncpool_pool_find(text).AsOk()));
        return lease.id == 0 ? null : ObjectRegistry.Take(lease) as TaskPool;
    }

    /// <summary>Listed tasks (of <paramref name="pool"/>, or all), in one of <paramref name="states"/>, oldest first.</summary>
    public static List<ParallelTask> Tasks(TaskPool? pool, IEnumerable<TaskState>? states)
    {
        EnsureStarted();
        uint mask = states is null ? uint.MaxValue : states.Aggregate(0u, (m, s) => m | s.Bit);
        using var leases = NativeCall.Run(() => Interop.syncpool_task_list(pool?.NativeId ?? 0, mask).AsOk());
        var tasks = new List<ParallelTask>(leases.Count);
        for (int i = 0; i < leases.Count; i++)
            if (ObjectRegistry.Take(leases[i]) is ParallelTask task) tasks.Add(task);
        return tasks;
    }

    public static ParallelTask? FindTask(long id)
    {
        EnsureStarted();
        var lease = NativeCall.Run(() => Interop.syncpool_task_find((ulong)id).AsOk());
        return lease.id == 0 ? null : ObjectRegistry.Take(lease) as ParallelTask;
    }

    /// <summary>Internal errors of the engine and of these callbacks not reported yet; taking them clears them.</summary>
    public static List<string> TakeFaults()
    {
        var faults = new List<string>();
        if (!_started) return faults;
        using (var text = Interop.syncpool_engine_take_faults())
        {
            if (text.String.Length > 0) faults.AddRange(text.String.Split('\n'));
        }
        lock (HostFaults)
        {
            faults.AddRange(HostFaults);
            HostFaults.Clear();
        }
        return faults;
    }

    /// <summary>Keeps a failure no task can carry, for the next cmdlet to report.</summary>
    public static void ReportFault(string what, Exception e)
    {
        lock (HostFaults) HostFaults.Add($"{what}: {e}");
    }

    /// <summary>Removes the pools owned by <paramref name="runspace"/> (Remove-Module).</summary>
    public static void RemovePoolsOwnedBy(Runspace? runspace)
    {
        if (!_started) return;
        NativeCall.Run(() => Interop.syncpool_pool_remove_owned_by(OwnerOf(runspace)).AsOk());
    }

    /// <summary>Stops everything and disposes of the warm runspaces (process exit).</summary>
    public static void Shutdown()
    {
        if (!_started) return;
        Volatile.Write(ref _exiting, true);
        try
        {
            NativeCall.Run(() => Interop.syncpool_engine_shutdown().AsOk());
        }
        catch (Exception e)
        {
            ReportFault("Shutting the task engine down failed", e);
        }
    }

    private static void OnStop(uint worker, ulong task, byte level)
    {
        try
        {
            BatchRunner.Stop(worker, task, level);
        }
        catch (Exception e)
        {
            ReportFault($"Stopping task {task} failed", e);
        }
    }

    /// <summary>The process is exiting (<see cref="Shutdown"/> has begun).</summary>
    private static bool _exiting;

    private static void OnDisposeContext(ulong context)
    {
        try
        {
            // At process exit nothing may wait for a runspace to close (a
            // runspace whose last pipeline was being stopped can take its time
            // closing): the closes run on the thread pool, and the process
            // exits without waiting for them.
            if (Volatile.Read(ref _exiting)) ThreadPool.UnsafeQueueUserWorkItem(c => DisposeQuietly((ulong)c!), context);
            else RunspaceContexts.Dispose(context);
        }
        catch (Exception e)
        {
            ReportFault($"Disposing of a worker runspace failed", e);
        }
    }

    private static void DisposeQuietly(ulong context)
    {
        try
        {
            RunspaceContexts.Dispose(context);
        }
        catch (Exception e)
        {
            ReportFault("Disposing of a worker runspace at exit failed", e);
        }
    }
}
