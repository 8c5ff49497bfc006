using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using SyncPool.Native;

namespace SyncPool.Pool;

/// <summary>
/// A pool of worker threads owned by the native core. The core decides the
/// queue, throttle, task states, timeouts, stops and waits; this class hands
/// it tasks, gives each native worker an <see cref="ITaskWorker"/> to run them
/// with, and exposes the result as <see cref="ParallelTask"/> objects.
/// </summary>
public sealed class TaskPool : IDisposable
{
    /// <summary>After a stop or timeout, how long a task may keep running before its worker is abandoned and replaced.</summary>
    public static readonly TimeSpan DefaultStopGrace = TimeSpan.FromSeconds(2);

    private readonly PoolCore _core;
    private readonly UseGuard _guard;
    private readonly Func<uint, ITaskWorker> _workerFactory;
    private readonly ConcurrentDictionary<ulong, ParallelTask> _tasks = new();
    private readonly ConcurrentDictionary<uint, ITaskWorker> _workers = new();
    private readonly object _submitGate = new();

    public TaskPool(int throttleLimit, Func<uint, ITaskWorker> workerFactory, TimeSpan? stopGrace = null, string? name = null)
    {
        if (throttleLimit < 1) throw new ArgumentOutOfRangeException(nameof(throttleLimit), throttleLimit, "ThrottleLimit must be at least 1.");
        _workerFactory = workerFactory ?? throw new ArgumentNullException(nameof(workerFactory));
        NativeLibraryLoader.EnsureLoaded();
        Name = name;
        ThrottleLimit = throttleLimit;
        var grace = (ulong)(stopGrace ?? DefaultStopGrace).TotalMilliseconds;
        _core = NativeCall.Run(() => PoolCore.Create((uint)throttleLimit, grace,
            new RunTaskDelegate(RunOnWorker), new StopTaskDelegate(StopOnWorker), new WorkerExitedDelegate(OnWorkerExited)));
        _guard = new UseGuard(nameof(TaskPool), _core.Dispose);
    }

    public string? Name { get; }
    public int ThrottleLimit { get; }
    public bool IsDisposed => _guard.IsClosed;

    /// <summary>Queues one task; <paramref name="timeout"/> counts from the moment it starts running.</summary>
    public ParallelTask Submit(object? input, object? work, TimeSpan? timeout = null, string? name = null) =>
        SubmitMany(new[] { input }, work, timeout, name)[0];

    /// <summary>Queues one task per input, all running the same <paramref name="work"/>.</summary>
    public IReadOnlyList<ParallelTask> SubmitMany(IReadOnlyList<object?> inputs, object? work, TimeSpan? timeout = null, string? name = null)
    {
        if (inputs.Count == 0) return Array.Empty<ParallelTask>();
        ulong timeoutMs = TimeoutMilliseconds(timeout);
        using (_guard.Enter())
        {
            // Held while ids are handed out and tasks recorded: a worker that
            // picks a task up first waits here (see FindTask), never polls.
            lock (_submitGate)
            {
                ulong first = NativeCall.Run(() => _core.SubmitMany((ulong)inputs.Count, timeoutMs));
                var created = new ParallelTask[inputs.Count];
                for (int i = 0; i < inputs.Count; i++)
                {
                    var task = new ParallelTask(this, first + (ulong)i, name, inputs[i], work);
                    _tasks[task.Id] = task;
                    created[i] = task;
                }
                return created;
            }
        }
    }

    /// <summary>Tasks of this pool not yet removed.</summary>
    public IEnumerable<ParallelTask> Tasks => _tasks.Values.OrderBy(t => t.Id);

    public PoolCounts Counts
    {
        get
        {
            using (_guard.Enter())
            {
                var c = NativeCall.Run(() => _core.Counts());
                return new PoolCounts((long)c.queued, (long)c.running, (long)c.completed, (long)c.failed,
                    (long)c.stopped, (long)c.timed_out, (long)c.workers, (long)c.abandoned_workers);
            }
        }
    }

    /// <summary>Waits until every task has finished; false on timeout. Returns promptly on cancellation (throws).</summary>
    public bool WaitAll(IReadOnlyCollection<ParallelTask> tasks, TimeSpan timeout, CancellationToken cancel = default, Action? onSlice = null)
    {
        var ids = IdsOf(tasks);
        var deadline = Deadline.After(timeout);
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            ulong slice = deadline.NextSlice(WaitSliceMilliseconds);
            if (WaitNative(ids, slice, all: true) >= 0) return true;
            onSlice?.Invoke();
            if (deadline.Passed) return false;
        }
    }

    /// <summary>The first of <paramref name="tasks"/> to be finished, or null on timeout.</summary>
    public ParallelTask? WaitAny(IReadOnlyCollection<ParallelTask> tasks, TimeSpan timeout, CancellationToken cancel = default, Action? onSlice = null)
    {
        var ids = IdsOf(tasks);
        var deadline = Deadline.After(timeout);
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            ulong slice = deadline.NextSlice(WaitSliceMilliseconds);
            long found = WaitNative(ids, slice, all: false);
            if (found >= 0) return tasks.First(t => t.Id == (ulong)found);
            onSlice?.Invoke();
            if (deadline.Passed) return null;
        }
    }

    /// <summary>Stops a task: a queued one never runs; a running one is asked to stop and abandoned after the grace period.</summary>
    public void Stop(ParallelTask task)
    {
        CheckOwned(task);
        if (task.IsRemoved) return;
        using (_guard.Enter()) NativeCall.Run(() => _core.StopTask(task.Id));
    }

    public void StopAll()
    {
        using (_guard.Enter()) NativeCall.Run(() => _core.StopAll());
    }

    /// <summary>Forgets a finished task (its results stay on the object).</summary>
    public void Remove(ParallelTask task)
    {
        CheckOwned(task);
        if (task.IsRemoved) return;
        using (_guard.Enter())
        {
            var final = Describe(task);
            NativeCall.Run(() => _core.Forget(task.Id));
            task.Freeze(final);
            _tasks.TryRemove(task.Id, out _);
        }
    }

    /// <summary>Stops all tasks, waits briefly for workers to exit, frees the native pool.</summary>
    public void Dispose()
    {
        if (_guard.IsClosed) return;
        try
        {
            using (_guard.Enter()) NativeCall.Run(() => _core.Shutdown((ulong)DefaultStopGrace.TotalMilliseconds * 2).Is);
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        _guard.Close();
    }

    internal const int WaitSliceMilliseconds = 100;

    internal TaskSnapshot Describe(ParallelTask task)
    {
        using (_guard.Enter())
        {
            var info = NativeCall.Run(() => _core.Info(task.Id));
            using var message = info.message;
            string text = message.String;
            return new TaskSnapshot(ParallelTaskStates.From(info.state), info.worker, Time(info.queued_us), Time(info.started_us), Time(info.ended_us),
                text.Length == 0 ? null : text);
        }
    }

    // ---- callbacks from native worker threads ----------------------------------
    // Each catches everything: an exception escaping here would be swallowed by
    // the generated trampoline and the task reported with a default result.

    private byte RunOnWorker(uint workerId, ulong taskId)
    {
        ParallelTask? task = null;
        try
        {
            task = FindTask(taskId);
            var worker = _workers.GetOrAdd(workerId, _workerFactory);
            return worker.Run(task) ? RunCompleted : RunFailed;
        }
        catch (Exception e)
        {
            if (task is not null)
            {
                task.Fault = e;
                task.Records.Enqueue(new TaskRecord(TaskStream.Error, e));
            }
            return RunFailed;
        }
    }

    private void StopOnWorker(uint workerId, ulong taskId)
    {
        try
        {
            if (_workers.TryGetValue(workerId, out var worker)) worker.RequestStop();
        }
        catch (Exception e)
        {
            if (_tasks.TryGetValue(taskId, out var task)) task.Records.Enqueue(new TaskRecord(TaskStream.Error, e));
        }
    }

    private void OnWorkerExited(uint workerId)
    {
        try
        {
            if (_workers.TryRemove(workerId, out var worker)) worker.Dispose();
        }
        catch (Exception e)
        {
            WorkerFaults.Enqueue(e);
        }
    }

    /// <summary>Exceptions from disposing workers (no task to attach them to); kept, never swallowed.</summary>
    public ConcurrentQueue<Exception> WorkerFaults { get; } = new();

    private const byte RunCompleted = 1;
    private const byte RunFailed = 0;

    private ParallelTask FindTask(ulong id)
    {
        if (_tasks.TryGetValue(id, out var task)) return task;
        lock (_submitGate) { } // the submitter records the task before it releases this
        return _tasks[id];
    }

    // ---- helpers ------------------------------------------------------------------

    private long WaitNative(ulong[] ids, ulong sliceMs, bool all)
    {
        unsafe
        {
            using (_guard.Enter())
            {
                fixed (ulong* p = ids)
                {
                    var slice = SliceUlong.From((IntPtr)p, (ulong)ids.Length);
                    if (all) return NativeCall.Run(() => _core.WaitAll(slice, sliceMs).Is) ? 0 : -1;
                    return NativeCall.Run(() => _core.WaitAny(slice, sliceMs));
                }
            }
        }
    }

    private ulong[] IdsOf(IReadOnlyCollection<ParallelTask> tasks)
    {
        var ids = new ulong[tasks.Count];
        int i = 0;
        foreach (var task in tasks)
        {
            CheckOwned(task);
            if (task.IsRemoved) throw new InvalidOperationException($"Task {task.Id} ('{task.Name}') was removed; it cannot be waited on.");
            ids[i++] = task.Id;
        }
        return ids;
    }

    private void CheckOwned(ParallelTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (!ReferenceEquals(task.Pool, this)) throw new ArgumentException($"Task {task.Id} belongs to another pool.", nameof(task));
    }

    private static ulong TimeoutMilliseconds(TimeSpan? timeout)
    {
        if (timeout is null || timeout == Timeout.InfiniteTimeSpan) return 0;
        if (timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "A task timeout must be positive.");
        return (ulong)Math.Max(1, Math.Ceiling(timeout.Value.TotalMilliseconds));
    }

    private static DateTime? Time(long micros) =>
        micros == 0 ? null : DateTime.UnixEpoch.AddTicks(micros * 10).ToLocalTime();
}
