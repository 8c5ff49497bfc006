using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using SyncPool;
using SyncPool.Pool;
using Xunit;

namespace SyncPool.Tests;

/// <summary>
/// The pool's core mechanism without PowerShell: Rust worker threads call back
/// into C#, each with its own worker object, and results reach the caller.
/// </summary>
public class PoolTests
{
    /// <summary>
    /// A worker that runs a C# delegate stored as the task's work. Stop
    /// requests go through a <see cref="RunningTaskSlot"/>, as in the
    /// PowerShell worker: only the task named is stopped.
    /// </summary>
    internal sealed class DelegateWorker(uint id, ConcurrentBag<uint>? disposed = null) : ITaskWorker
    {
        public readonly uint Id = id;
        public readonly int Thread = Environment.CurrentManagedThreadId;
        private readonly RunningTaskSlot _slot = new();
        public volatile bool StopRequested;
        public readonly ConcurrentQueue<long> StoppedTaskIds = new();

        public bool Run(ParallelTask task)
        {
            StopRequested = false;
            if (!_slot.Enter(task, () => { StopRequested = true; StoppedTaskIds.Enqueue(task.Id); })) return false;
            try
            {
                var work = (Func<DelegateWorker, ParallelTask, object?>)task.Work!;
                task.AddOutput(work(this, task));
                return true;
            }
            finally
            {
                _slot.Leave();
            }
        }

        public void RequestStop(ParallelTask task) => _slot.RequestStop(task);
        public void Dispose() => disposed?.Add(Id);
    }

    internal static TaskPool NewPool(int throttle, ConcurrentBag<uint>? disposed = null, TimeSpan? grace = null, bool perCall = false, ulong stack = 0) =>
        new(throttle, id => new DelegateWorker(id, disposed), grace ?? TimeSpan.FromMilliseconds(300), stackSizeBytes: stack, perCall: perCall);

    internal static Func<DelegateWorker, ParallelTask, object?> Work(Func<DelegateWorker, ParallelTask, object?> f) => f;

    [Fact]
    public void Rust_worker_threads_run_CSharp_work_and_output_reaches_the_caller()
    {
        using var pool = NewPool(2);
        int caller = Environment.CurrentManagedThreadId;
        var tasks = pool.SubmitMany(Enumerable.Range(1, 10).Cast<object?>().ToList(),
            Work((w, t) => ((int)t.Input! * 2, Environment.CurrentManagedThreadId, w.Id)));
        Assert.True(pool.WaitAll(tasks, TimeSpan.FromSeconds(30)));
        foreach (var task in tasks)
        {
            Assert.Equal(ParallelTaskState.Completed, task.State);
            var (doubled, thread, worker) = ((int, int, uint))Assert.Single(task.Output)!;
            Assert.Equal((int)task.Input! * 2, doubled);
            Assert.NotEqual(caller, thread);
            Assert.Equal((long)worker, task.WorkerId);
            Assert.NotNull(task.StartTime);
            Assert.True(task.EndTime >= task.StartTime);
        }
    }

    [Fact]
    public void Two_workers_run_at_the_same_time_each_with_its_own_worker_object()
    {
        using var pool = NewPool(2);
        using var both = new Barrier(2);
        var tasks = pool.SubmitMany(new object?[] { 1, 2 },
            Work((w, t) => both.SignalAndWait(TimeSpan.FromSeconds(10)) ? w : null));
        Assert.True(pool.WaitAll(tasks, TimeSpan.FromSeconds(30)));
        var workers = tasks.Select(t => (DelegateWorker?)t.Output.Single()).ToList();
        Assert.All(workers, Assert.NotNull); // both reached the barrier together
        Assert.NotEqual(workers[0]!.Id, workers[1]!.Id);
        Assert.NotSame(workers[0], workers[1]);
    }

    [Fact]
    public void Workers_are_reused_across_tasks()
    {
        using var pool = NewPool(1);
        var tasks = pool.SubmitMany(Enumerable.Range(0, 20).Cast<object?>().ToList(), Work((w, t) => w));
        Assert.True(pool.WaitAll(tasks, TimeSpan.FromSeconds(30)));
        Assert.Single(tasks.Select(t => t.Output.Single()).Distinct());
    }

    [Fact]
    public void Throttle_limits_concurrency()
    {
        using var pool = NewPool(3);
        int running = 0, peak = 0;
        var tasks = pool.SubmitMany(Enumerable.Range(0, 30).Cast<object?>().ToList(), Work((w, t) =>
        {
            int now = Interlocked.Increment(ref running);
            int seen;
            while ((seen = Volatile.Read(ref peak)) < now && Interlocked.CompareExchange(ref peak, now, seen) != seen) { }
            Thread.Sleep(10);
            Interlocked.Decrement(ref running);
            return null;
        }));
        Assert.True(pool.WaitAll(tasks, TimeSpan.FromSeconds(30)));
        Assert.Equal(3, peak);
    }

    [Fact]
    public void An_exception_in_the_worker_fails_the_task_and_is_kept()
    {
        using var pool = NewPool(1);
        var bad = pool.Submit(null, Work((w, t) => throw new InvalidOperationException("task blew up")));
        var good = pool.Submit(null, Work((w, t) => "still fine"));
        Assert.True(pool.WaitAll(new[] { bad, good }, TimeSpan.FromSeconds(30)));
        Assert.Equal(ParallelTaskState.Failed, bad.State);
        var error = Assert.IsType<InvalidOperationException>(Assert.Single(bad.Errors));
        Assert.Equal("task blew up", error.Message);
        Assert.Same(error, bad.Fault);
        Assert.Equal(ParallelTaskState.Completed, good.State);
        Assert.Equal("still fine", good.Output.Single());
    }

    [Fact]
    public void Timeouts_count_from_the_start_and_stop_the_task()
    {
        using var pool = NewPool(1);
        var first = pool.Submit(null, Work((w, t) => { Thread.Sleep(400); return 1; }));
        // Queued 400 ms behind `first`; its 300 ms budget only starts when it runs.
        var quick = pool.Submit(null, Work((w, t) => { Thread.Sleep(20); return 2; }), TimeSpan.FromMilliseconds(300));
        var slow = pool.Submit(null, Work((w, t) =>
        {
            var sw = Stopwatch.StartNew();
            while (!w.StopRequested && sw.Elapsed < TimeSpan.FromSeconds(20)) Thread.Sleep(5);
            return w.StopRequested ? "stopped" : "ran out";
        }), TimeSpan.FromMilliseconds(200));
        Assert.True(pool.WaitAll(new[] { first, quick, slow }, TimeSpan.FromSeconds(30)));
        Assert.Equal(ParallelTaskState.Completed, quick.State);
        Assert.Equal(ParallelTaskState.TimedOut, slow.State);
        Assert.Contains("timed out", slow.StatusMessage);
    }

    [Fact]
    public void A_task_stuck_past_its_timeout_is_abandoned_and_its_worker_replaced()
    {
        var disposed = new ConcurrentBag<uint>();
        using var release = new ManualResetEventSlim();
        using var pool = NewPool(1, disposed, grace: TimeSpan.FromMilliseconds(200));
        var stuck = pool.Submit(null, Work((w, t) => { release.Wait(TimeSpan.FromSeconds(60)); return "late"; }), TimeSpan.FromMilliseconds(200));
        var after = pool.Submit(null, Work((w, t) => w.Id));
        var sw = Stopwatch.StartNew();
        Assert.True(pool.WaitAll(new[] { stuck }, TimeSpan.FromSeconds(10)));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"caller waited {sw.Elapsed}");
        Assert.Equal(ParallelTaskState.TimedOut, stuck.State);
        Assert.True(pool.WaitAll(new[] { after }, TimeSpan.FromSeconds(10)), "the replacement worker never ran the next task");
        Assert.Equal(ParallelTaskState.Completed, after.State);
        Assert.NotEqual((uint)stuck.WorkerId, (uint)after.Output.Single()!);
        Assert.Equal(1, pool.Counts.AbandonedWorkers);
        release.Set(); // the stuck call returns; its worker exits and is disposed
        var until = Stopwatch.StartNew();
        while (!disposed.Contains((uint)stuck.WorkerId) && until.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(10);
        Assert.Contains((uint)stuck.WorkerId, disposed);
        Assert.Equal(ParallelTaskState.TimedOut, stuck.State); // its late result does not overwrite the state
    }

    [Fact]
    public void Stop_prevents_queued_tasks_and_stops_running_ones()
    {
        using var pool = NewPool(1);
        using var started = new ManualResetEventSlim();
        var running = pool.Submit(null, Work((w, t) =>
        {
            started.Set();
            while (!w.StopRequested) Thread.Sleep(5);
            return null;
        }));
        var queued = pool.Submit(null, Work((w, t) => "should not run"));
        started.Wait(TimeSpan.FromSeconds(10));
        pool.Stop(queued);
        pool.Stop(running);
        Assert.True(pool.WaitAll(new[] { running, queued }, TimeSpan.FromSeconds(10)));
        Assert.Equal(ParallelTaskState.Stopped, running.State);
        Assert.Equal(ParallelTaskState.Stopped, queued.State);
        Assert.Empty(queued.Output);
    }

    [Fact]
    public void WaitAny_returns_the_first_finished_and_times_out()
    {
        using var pool = NewPool(2);
        using var gate = new ManualResetEventSlim();
        var slow = pool.Submit(null, Work((w, t) => { gate.Wait(TimeSpan.FromSeconds(30)); return null; }));
        var fast = pool.Submit(null, Work((w, t) => null));
        Assert.Same(fast, pool.WaitAny(new[] { slow, fast }, TimeSpan.FromSeconds(10)));
        Assert.Null(pool.WaitAny(new[] { slow }, TimeSpan.FromMilliseconds(150)));
        using var cts = new CancellationTokenSource(150);
        Assert.ThrowsAny<OperationCanceledException>(() => pool.WaitAll(new[] { slow }, Timeout.InfiniteTimeSpan, cts.Token));
        gate.Set();
        Assert.True(pool.WaitAll(new[] { slow }, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Removed_tasks_keep_their_results_and_cannot_be_waited_on()
    {
        using var pool = NewPool(1);
        var task = pool.Submit(null, Work((w, t) => 5));
        Assert.True(pool.WaitAll(new[] { task }, TimeSpan.FromSeconds(10)));
        pool.Remove(task);
        Assert.True(task.IsRemoved);
        Assert.Equal(ParallelTaskState.Completed, task.State);
        Assert.Equal(5, task.Output.Single());
        Assert.Throws<TaskRemovedException>(() => pool.WaitAll(new[] { task }, TimeSpan.FromSeconds(1)));
        Assert.Empty(pool.Tasks);
    }

    [Fact]
    public void Removing_an_unfinished_task_is_a_clear_error()
    {
        using var pool = NewPool(1);
        using var gate = new ManualResetEventSlim();
        var task = pool.Submit(null, Work((w, t) => { gate.Wait(TimeSpan.FromSeconds(30)); return null; }));
        var e = Assert.Throws<SyncPoolException>(() => pool.Remove(task));
        Assert.Equal("SyncPool.NotFinished", e.ErrorId);
        gate.Set();
        pool.WaitAll(new[] { task }, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Bad_arguments_and_use_after_dispose_are_clear_errors()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NewPool(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => NewPool(-1));
        var pool = NewPool(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Submit(null, null, TimeSpan.FromSeconds(-1)));
        pool.Dispose();
        pool.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pool.Submit(null, Work((w, t) => null)));
        // Counts stay readable (from the frozen task states) once the pool is gone.
        Assert.Equal(0, pool.Counts.Total);
    }

    [Fact]
    public void Dispose_with_running_and_queued_tasks_returns_promptly()
    {
        var pool = NewPool(2);
        var tasks = pool.SubmitMany(Enumerable.Range(0, 20).Cast<object?>().ToList(), Work((w, t) =>
        {
            while (!w.StopRequested) Thread.Sleep(5);
            return null;
        }));
        Thread.Sleep(50);
        var sw = Stopwatch.StartNew();
        pool.Dispose();
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"Dispose took {sw.Elapsed}");
    }

    [Fact]
    public void Many_tasks_from_many_submitters_all_finish_exactly_once()
    {
        using var pool = NewPool(2);
        int runs = 0;
        var all = new ConcurrentBag<ParallelTask>();
        var submitters = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            for (int i = 0; i < 500; i++) all.Add(pool.Submit(i, Work((w, t) => Interlocked.Increment(ref runs))));
        })).ToList();
        submitters.ForEach(s => s.Start());
        submitters.ForEach(s => s.Join());
        Assert.True(pool.WaitAll(all.ToList(), TimeSpan.FromSeconds(60)));
        Assert.Equal(2000, runs);
        Assert.Equal(2000, pool.Counts.Completed);
        foreach (var t in all) pool.Remove(t);
        Assert.Empty(pool.Tasks);
    }
}
