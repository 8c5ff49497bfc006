using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using SyncPool.Native;

namespace SyncPool.Pool;

/// <summary>
/// A pool of worker threads owned by the native core. The core decides the
/// queue, throttle, task states, timeouts, stops and waits; this class hands
/// it tasks, gives each native worker an <see cref="ITaskWorker"/> to run them
/// with, and exposes the result as <see cref="ParallelTask"/> objects.
/// </summary>
/// <remarks>
/// A pool made for one Start-ParallelTask call (<see cref="IsPerCall"/>)
/// releases its threads and runspaces by itself once that call is over
/// (<see cref="Seal"/>) and all its tasks have finished; its tasks stay
/// readable (their state is frozen) until they are removed, and when the
/// last one is removed the pool raises <see cref="Closed"/>.
/// </remarks>
public sealed class TaskPool : IDisposable
{
    /// <summary>After a stop or timeout, how long a task may keep running before its worker is abandoned and replaced.</summary>
    public static readonly TimeSpan DefaultStopGrace = TimeSpan.FromSeconds(2);

    private static int s_lastId;

    private readonly PoolCore _core;
    private readonly UseGuard _guard;
    private readonly Func<uint, ITaskWorker> _workerFactory;
    private readonly ConcurrentDictionary<ulong, ParallelTask> _tasks = new();   // by native id
    private readonly ConcurrentDictionary<uint, ITaskWorker> _workers = new();
    private readonly ConcurrentDictionary<uint, ParallelTask> _running = new();  // worker id -> task its runner is in
    private readonly object _submitGate = new();
    private readonly object _releaseGate = new();
    private volatile bool _released;
    private volatile bool _sealed;
    private int _retireCheckQueued;
    private int _closedRaised;

    /// <param name="throttleLimit">How many tasks run at once (worker threads).</param>
    /// <param name="workerFactory">Makes the worker object for a worker id (called on that worker's thread, at its first task).</param>
    /// <param name="stopGrace">How long a stopped task may take to return before its worker is abandoned.</param>
    /// <param name="name">Optional name (Get-ParallelPool -Name).</param>
    /// <param name="stackSizeBytes">Stack of each worker thread; 0 = the native default (16 MiB).</param>
    /// <param name="perCall">The pool belongs to one Start-ParallelTask call (see the remarks on the class).</param>
    public TaskPool(int throttleLimit, Func<uint, ITaskWorker> workerFactory, TimeSpan? stopGrace = null, string? name = null,
        ulong stackSizeBytes = 0, bool perCall = false)
    {
        if (throttleLimit < 1) throw new ArgumentOutOfRangeException(nameof(throttleLimit), throttleLimit, "ThrottleLimit must be at least 1.");
        _workerFactory = workerFactory ?? throw new ArgumentNullException(nameof(workerFactory));
        NativeLibraryLoader.EnsureLoaded();
        Id = Interlocked.Increment(ref s_lastId);
        Name = name;
        ThrottleLimit = throttleLimit;
        IsPerCall = perCall;
        CreationTime = DateTime.Now;
        StopGrace = stopGrace ?? DefaultStopGrace;
        var grace = (ulong)StopGrace.TotalMilliseconds;
        _core = NativeCall.Run(() => PoolCore.Create((uint)throttleLimit, grace, stackSizeBytes,
            new RunTaskDelegate(RunOnWorker), new StopTaskDelegate(StopOnWorker), new WorkerExitedDelegate(OnWorkerExited),
            new TaskFinishedDelegate(OnTaskFinished)));
        _guard = new UseGuard(nameof(TaskPool), _core.Dispose);
        StackSize = (long)NativeCall.Run(() => _core.StackSize());
    }

    /// <summary>Unique in the process.</summary>
    public int Id { get; }
    public string? Name { get; }
    public int ThrottleLimit { get; }
    public DateTime CreationTime { get; }
    public TimeSpan StopGrace { get; }

    /// <summary>Stack size of the worker threads, in bytes.</summary>
    public long StackSize { get; }

    /// <summary>The timeout tasks get when their submitter names none (New-ParallelPool -TimeoutSeconds).</summary>
    public TimeSpan? DefaultTaskTimeout { get; set; }

    /// <summary>What the pool's runspaces are set up with (modules, functions, variables), for display.</summary>
    public object? WorkerSettings { get; set; }

    /// <summary>Made for one Start-ParallelTask call rather than by New-ParallelPool.</summary>
    public bool IsPerCall { get; }

    /// <summary>True once no more tasks may be submitted to this per-call pool.</summary>
    public bool IsSealed => _sealed;

    /// <summary>True once the worker threads and runspaces are released (the tasks stay readable).</summary>
    public bool IsDisposed => _released || _guard.IsClosed;

    /// <summary>
    /// Raised once when the pool is of no further use: disposed, or (per-call)
    /// released with all its tasks removed. The registry forgets it then.
    /// </summary>
    public event EventHandler? Closed;

    /// <summary>Queues one task; <paramref name="timeout"/> counts from the moment it starts running.</summary>
    public ParallelTask Submit(object? input, object? work, TimeSpan? timeout = null, string? name = null) =>
        SubmitCore(new[] { input }, hasInput: true, work, timeout, name)[0];

    /// <summary>Queues one task that runs without any input.</summary>
    public ParallelTask SubmitWithoutInput(object? work, TimeSpan? timeout = null, string? name = null) =>
        SubmitCore(new object?[] { null }, hasInput: false, work, timeout, name)[0];

    /// <summary>Queues one task per input, all running the same <paramref name="work"/>.</summary>
    public IReadOnlyList<ParallelTask> SubmitMany(IReadOnlyList<object?> inputs, object? work, TimeSpan? timeout = null, string? name = null) =>
        SubmitCore(inputs, hasInput: true, work, timeout, name);

    private IReadOnlyList<ParallelTask> SubmitCore(IReadOnlyList<object?> inputs, bool hasInput, object? work, TimeSpan? timeout, string? name)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0) return Array.Empty<ParallelTask>();
        ulong timeoutMs = TimeoutMilliseconds(timeout ?? DefaultTaskTimeout);
        if (_sealed)
        {
            throw new InvalidOperationException(
                $"Pool {Id} was made for one Start-ParallelTask call and takes no more tasks. Create a reusable pool with New-ParallelPool.");
        }
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
                    var task = new ParallelTask(this, first + (ulong)i, name, inputs[i], hasInput, work);
                    _tasks[task.NativeId] = task;
                    created[i] = task;
                }
                return created;
            }
        }
    }

    /// <summary>
    /// No more tasks will be submitted (the Start-ParallelTask call that owns
    /// this per-call pool is over). Its resources are released once every
    /// task has finished. No effect on pools made with New-ParallelPool.
    /// </summary>
    public void Seal()
    {
        if (!IsPerCall || _sealed) return;
        _sealed = true;
        if (_tasks.IsEmpty) Close(waitMilliseconds: 0);
        else ScheduleRetireCheck();
    }

    /// <summary>Tasks of this pool not yet removed, oldest first.</summary>
    public IEnumerable<ParallelTask> Tasks => _tasks.Values.OrderBy(t => t.Id);

    /// <summary>How many tasks of this pool are not yet removed.</summary>
    public int TaskCount => _tasks.Count;

    public PoolCounts Counts
    {
        get
        {
            if (_released) return CountsFromSnapshots();
            try
            {
                using (_guard.Enter())
                {
                    var c = NativeCall.Run(() => _core.Counts());
                    return new PoolCounts((long)c.queued, (long)c.running, (long)c.completed, (long)c.failed,
                        (long)c.stopped, (long)c.timed_out, (long)c.workers, (long)c.abandoned_workers);
                }
            }
            catch (ObjectDisposedException) when (_released)
            {
                return CountsFromSnapshots();
            }
        }
    }

    private PoolCounts CountsFromSnapshots()
    {
        long completed = 0, failed = 0, stopped = 0, timedOut = 0;
        foreach (var task in _tasks.Values)
        {
            switch (task.State)
            {
                case ParallelTaskState.Completed: completed++; break;
                case ParallelTaskState.Failed: failed++; break;
                case ParallelTaskState.Stopped: stopped++; break;
                case ParallelTaskState.TimedOut: timedOut++; break;
            }
        }
        return new PoolCounts(0, 0, completed, failed, stopped, timedOut, 0, 0);
    }

    /// <summary>Waits until every task has finished; false on timeout. Returns promptly on cancellation (throws).</summary>
    public bool WaitAll(IReadOnlyCollection<ParallelTask> tasks, TimeSpan timeout, CancellationToken cancel = default, Action? onSlice = null)
    {
        var pending = Pending(tasks);
        if (pending.Length == 0) return true;
        return Deadline.WaitInSlices(timeout, cancel, WaitSliceMilliseconds,
            slice => WaitNative(pending, slice, all: true) >= 0, onSlice);
    }

    /// <summary>The first of <paramref name="tasks"/> to be finished, or null on timeout.</summary>
    public ParallelTask? WaitAny(IReadOnlyCollection<ParallelTask> tasks, TimeSpan timeout, CancellationToken cancel = default, Action? onSlice = null)
    {
        if (tasks.Count == 0) return null;
        var pending = Pending(tasks);
        if (pending.Length < tasks.Count) return tasks.First(t => t.IsFrozen);
        long found = -1;
        if (!Deadline.WaitInSlices(timeout, cancel, WaitSliceMilliseconds,
                slice => (found = WaitNative(pending, slice, all: false)) >= 0, onSlice))
            return null;
        return tasks.First(t => t.NativeId == (ulong)found || t.IsFrozen);
    }

    /// <summary>Stops a task: a queued one never runs; a running one is asked to stop and abandoned after the grace period.</summary>
    public void Stop(ParallelTask task) => Stop(task, ParallelTaskState.Stopped, null);

    /// <summary>
    /// Stops a task as <see cref="Stop(ParallelTask)"/> does, ending it in
    /// <paramref name="endAs"/> (Stopped or TimedOut) with <paramref name="message"/>
    /// as its <see cref="ParallelTask.StatusMessage"/>. A finished task is unchanged.
    /// </summary>
    public void Stop(ParallelTask task, ParallelTaskState endAs, string? message)
    {
        CheckOwned(task);
        if (endAs is not (ParallelTaskState.Stopped or ParallelTaskState.TimedOut))
            throw new ArgumentOutOfRangeException(nameof(endAs), endAs, "A task can only be stopped as Stopped or TimedOut.");
        if (task.IsFrozen) return;
        try
        {
            using (_guard.Enter())
            {
                if (message is null && endAs == ParallelTaskState.Stopped)
                {
                    NativeCall.Run(() => _core.StopTask(task.NativeId));
                    return;
                }
                byte[] utf8 = Encoding.UTF8.GetBytes(message ?? (endAs == ParallelTaskState.TimedOut ? "timed out" : "stopped"));
                unsafe
                {
                    fixed (byte* p = utf8)
                    {
                        var slice = SliceByte.From((IntPtr)p, (ulong)utf8.Length);
                        NativeCall.Run(() => _core.StopTaskAs(task.NativeId, endAs == ParallelTaskState.TimedOut, slice));
                    }
                }
            }
        }
        catch (ObjectDisposedException) when (task.IsFrozen)
        {
            // The pool was released meanwhile; the task had finished already.
        }
    }

    public void StopAll()
    {
        if (_released) return;
        using (_guard.Enter()) NativeCall.Run(() => _core.StopAll());
    }

    /// <summary>Forgets a finished task (its results stay on the object).</summary>
    public void Remove(ParallelTask task)
    {
        CheckOwned(task);
        if (task.IsRemoved) return;
        if (task.IsFrozen)
        {
            task.MarkRemoved();
        }
        else
        {
            using (_guard.Enter())
            {
                var final = DescribeNative(task);
                NativeCall.Run(() => _core.Forget(task.NativeId));
                task.Freeze(final);
                task.MarkRemoved();
            }
        }
        _tasks.TryRemove(task.NativeId, out _);
        if (IsPerCall && _sealed && _tasks.IsEmpty) Close(waitMilliseconds: 0);
    }

    /// <summary>
    /// Stops all tasks, waits briefly for workers to exit (so their runspaces
    /// are closed), frees the native pool. Tasks keep their final state.
    /// </summary>
    public void Dispose() => Close(waitMilliseconds: (ulong)StopGrace.TotalMilliseconds * 2);

    private void Close(ulong waitMilliseconds)
    {
        Release(waitMilliseconds);
        if (Interlocked.Exchange(ref _closedRaised, 1) == 0) Closed?.Invoke(this, EventArgs.Empty);
    }

    /// <summary>Shuts the native pool down, freezes every task's state, frees the native pool.</summary>
    private void Release(ulong waitMilliseconds)
    {
        lock (_releaseGate)
        {
            if (_released || _guard.IsClosed) return;
            try
            {
                using (_guard.Enter())
                {
                    // Returns at once with 0: workers exit on their own (each
                    // disposing its runspace); only threads are left to wind down.
                    NativeCall.Run(() => _core.Shutdown(waitMilliseconds).Is);
                    foreach (var task in _tasks.Values) task.Freeze(DescribeNative(task));
                }
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            _released = true;
            _guard.Close();
        }
    }

    internal const int WaitSliceMilliseconds = 100;

    internal TaskSnapshot Describe(ParallelTask task)
    {
        try
        {
            using (_guard.Enter()) return DescribeNative(task);
        }
        catch (ObjectDisposedException) when (task.IsFrozen)
        {
            return task.Snapshot();
        }
        catch (ObjectDisposedException) when (_released)
        {
            // Submitted in the instant the pool was shutting down: it never ran.
            var stopped = new TaskSnapshot(ParallelTaskState.Stopped, -1, null, null, null, "stopped: pool shut down");
            task.Freeze(stopped);
            return task.Snapshot();
        }
    }

    private TaskSnapshot DescribeNative(ParallelTask task)
    {
        var info = NativeCall.Run(() => _core.Info(task.NativeId));
        using var message = info.message;
        string text = message.String;
        return new TaskSnapshot(ParallelTaskStates.From(info.state), info.worker, Time(info.queued_us), Time(info.started_us), Time(info.ended_us),
            text.Length == 0 ? null : text);
    }

    /// <summary>Keeps an exception no task can carry (e.g. from disposing a worker's runspace).</summary>
    public void ReportFault(Exception fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        WorkerFaults.Enqueue(fault);
    }

    /// <summary>Exceptions from disposing workers (no task to attach them to); kept, never swallowed.</summary>
    public ConcurrentQueue<Exception> WorkerFaults { get; } = new();

    public override string ToString() => Name is null ? $"Pool{Id}" : $"{Name} (Pool{Id})";

    // ---- callbacks from native threads -------------------------------------------
    // Each catches everything: an exception escaping here would be swallowed by
    // the generated trampoline and the task reported with a default result.

    private byte RunOnWorker(uint workerId, ulong taskId)
    {
        ParallelTask? task = null;
        try
        {
            task = FindTask(taskId);
            var worker = _workers.GetOrAdd(workerId, _workerFactory);
            _running[workerId] = task;
            try
            {
                return worker.Run(task) ? RunCompleted : RunFailed;
            }
            finally
            {
                _running.TryRemove(workerId, out _);
            }
        }
        catch (Exception e)
        {
            if (task is not null)
            {
                task.Fault = e;
                task.AddRecord(TaskStream.Error, e);
            }
            else
            {
                WorkerFaults.Enqueue(e);
            }
            return RunFailed;
        }
    }

    /// <summary>The native pool asks worker <paramref name="workerId"/> to stop task <paramref name="taskId"/> (a timeout, Stop, shutdown).</summary>
    internal void StopOnWorker(uint workerId, ulong taskId)
    {
        ParallelTask? task = null;
        try
        {
            // A stopped task is final at once and may already be removed; the
            // worker's own record still knows it while its runner is inside.
            if (!_tasks.TryGetValue(taskId, out task) && _running.TryGetValue(workerId, out var running) && running.NativeId == taskId)
                task = running;
            if (task is null) return;
            task.MarkStopRequested();
            if (_workers.TryGetValue(workerId, out var worker)) worker.RequestStop(task);
        }
        catch (Exception e)
        {
            if (task is not null) task.AddRecord(TaskStream.Error, e);
            else WorkerFaults.Enqueue(e);
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

    private void OnTaskFinished(ulong taskId)
    {
        try
        {
            if (IsPerCall && _sealed) ScheduleRetireCheck();
        }
        catch (Exception e)
        {
            WorkerFaults.Enqueue(e);
        }
    }

    /// <summary>Checks off the native thread whether a sealed per-call pool has nothing left to run.</summary>
    private void ScheduleRetireCheck()
    {
        if (Interlocked.Exchange(ref _retireCheckQueued, 1) == 1) return;
        ThreadPool.UnsafeQueueUserWorkItem(_ =>
        {
            Volatile.Write(ref _retireCheckQueued, 0);
            try
            {
                if (_released) return;
                var counts = Counts;
                if (counts.Queued + counts.Running == 0) Release(waitMilliseconds: 0);
            }
            catch (ObjectDisposedException)
            {
            }
            catch (Exception e)
            {
                WorkerFaults.Enqueue(e);
            }
        }, null);
    }

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
        try
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
        catch (ObjectDisposedException) when (_released)
        {
            // Released meanwhile: that only happens once every task is final.
            return all ? 0 : (long)ids[0];
        }
    }

    /// <summary>Native ids of the tasks whose state still comes from the native pool.</summary>
    private ulong[] Pending(IReadOnlyCollection<ParallelTask> tasks)
    {
        var ids = new List<ulong>(tasks.Count);
        foreach (var task in tasks)
        {
            CheckOwned(task);
            if (task.IsRemoved)
                throw new TaskRemovedException(task);
            if (!task.IsFrozen) ids.Add(task.NativeId);
        }
        return ids.ToArray();
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

/// <summary>A removed task was used where a live one is needed (waiting on it).</summary>
public sealed class TaskRemovedException : InvalidOperationException
{
    public TaskRemovedException(ParallelTask task)
        : base($"Task {task.Id} ('{task.Name}') was removed; it cannot be waited on. Its results stay on the task object.") => Task = task;

    public ParallelTask Task { get; }
}
