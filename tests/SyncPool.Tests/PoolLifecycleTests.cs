using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using SyncPool.Pool;
using Xunit;
using static SyncPool.Tests.PoolTests;

namespace SyncPool.Tests;

/// <summary>
/// Stop requests that name their task, worker stacks, caller-imposed
/// timeouts, per-call pools that release themselves, and waits across pools.
/// </summary>
public class PoolLifecycleTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    private static void Until(Func<bool> condition, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(sw.Elapsed < Long, $"timed out waiting until {what}");
            Thread.Sleep(5);
        }
    }

    [Fact]
    public void A_late_stop_for_a_finished_task_does_not_stop_the_next_one()
    {
        using var pool = NewPool(1);
        var first = pool.Submit(null, Work((w, t) => w));
        Assert.True(pool.WaitAll(new[] { first }, Long));
        var worker = (DelegateWorker)first.Output.Single()!;

        using var started = new ManualResetEventSlim();
        var second = pool.Submit(null, Work((w, t) =>
        {
            started.Set();
            var sw = Stopwatch.StartNew();
            while (!w.StopRequested && sw.Elapsed < TimeSpan.FromSeconds(1)) Thread.Sleep(5);
            return w.StopRequested ? "stopped" : "ran to the end";
        }));
        Assert.True(started.Wait(Long));
        // The native pool's stop for `first`, arriving after the worker moved on.
        pool.StopOnWorker((uint)first.WorkerId, first.NativeId);
        Assert.True(pool.WaitAll(new[] { second }, Long));
        Assert.Equal("ran to the end", second.Output.Single());
        Assert.Equal(ParallelTaskState.Completed, second.State);
        Assert.Empty(worker.StoppedTaskIds);
    }

    [Fact]
    public void A_stop_for_the_running_task_reaches_it()
    {
        using var pool = NewPool(1);
        using var started = new ManualResetEventSlim();
        var task = pool.Submit(null, Work((w, t) =>
        {
            started.Set();
            while (!w.StopRequested) Thread.Sleep(5);
            return w;
        }));
        Assert.True(started.Wait(Long));
        pool.Stop(task);
        Until(() => task.Output.Count == 1, "the runner returned");
        var worker = (DelegateWorker)task.Output.Single()!;
        Assert.Equal(new[] { task.Id }, worker.StoppedTaskIds);
        Assert.True(task.StopRequested);
        Assert.Equal(ParallelTaskState.Stopped, task.State);
    }

    [Fact]
    public void The_slot_ignores_stops_for_other_tasks_and_refuses_tasks_stopped_early()
    {
        using var pool = NewPool(1);
        using var gate = new ManualResetEventSlim();
        var blocker = pool.Submit(null, Work((w, t) => { gate.Wait(Long); return null; }));
        var a = pool.Submit(1, null);
        var b = pool.Submit(2, null);
        var slot = new RunningTaskSlot();
        int stops = 0;

        Assert.True(slot.Enter(a, () => stops++));
        Assert.Same(a, slot.Current);
        Assert.False(slot.RequestStop(b), "b is not running here");
        Assert.Equal(0, stops);
        Assert.True(b.StopRequested, "but b remembers it was asked");
        Assert.False(slot.Enter(b, () => stops++), "so b never starts");
        Assert.True(slot.RequestStop(a));
        Assert.Equal(1, stops);
        slot.Leave();
        Assert.Null(slot.Current);
        Assert.False(slot.RequestStop(a), "a late request after the task left does nothing");
        Assert.Equal(1, stops);
        gate.Set();
        Assert.True(pool.WaitAll(new[] { blocker }, Long));
    }

    /// <summary>Recurses until about <paramref name="bytes"/> of stack are in use below the first frame.</summary>
    private static unsafe int Recurse(long top, long bytes)
    {
        byte* frame = stackalloc byte[1024];
        frame[0] = 1;
        long here = (long)frame;
        if (top - here >= bytes) return frame[0];
        return Recurse(top, bytes) + frame[0];
    }

    private static unsafe int DeepRecursion(long bytes)
    {
        byte marker = 0;
        return Recurse((long)&marker, bytes);
    }

    [Fact]
    public void Workers_have_a_16_MiB_stack_so_deep_recursion_completes()
    {
        using var pool = NewPool(1);
        Assert.Equal(16L * 1024 * 1024, pool.StackSize);
        // 8 MiB: four times Rust's default thread stack, close to what
        // PowerShell's own pipeline threads get. Overflowing would kill the
        // test process, not fail the test.
        var task = pool.Submit(null, Work((w, t) => DeepRecursion(8L * 1024 * 1024)));
        Assert.True(pool.WaitAll(new[] { task }, Long));
        Assert.Equal(ParallelTaskState.Completed, task.State);
        Assert.True((int)task.Output.Single()! > 1000);

        using var custom = NewPool(1, stack: 32UL * 1024 * 1024);
        Assert.Equal(32L * 1024 * 1024, custom.StackSize);
    }

    [Fact]
    public void A_caller_can_stop_a_task_as_timed_out_with_its_own_reason()
    {
        using var pool = NewPool(1);
        using var started = new ManualResetEventSlim();
        var running = pool.Submit(null, Work((w, t) => { started.Set(); while (!w.StopRequested) Thread.Sleep(5); return null; }));
        var queued = pool.Submit(null, Work((w, t) => "never"));
        Assert.True(started.Wait(Long));
        pool.Stop(queued, ParallelTaskState.TimedOut, "timed out: Wait-ParallelTask -Timeout 1 ran out");
        pool.Stop(running, ParallelTaskState.TimedOut, "timed out: Wait-ParallelTask -Timeout 1 ran out");
        Assert.Equal(ParallelTaskState.TimedOut, running.State);
        Assert.Equal(ParallelTaskState.TimedOut, queued.State);
        Assert.Equal("timed out: Wait-ParallelTask -Timeout 1 ran out", running.StatusMessage);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Stop(running, ParallelTaskState.Completed, null));
        pool.Stop(running, ParallelTaskState.Stopped, "x");
        Assert.Equal(ParallelTaskState.TimedOut, running.State); // final states stay
    }

    [Fact]
    public void Task_ids_are_unique_across_pools()
    {
        using var a = NewPool(1);
        using var b = NewPool(1);
        var tasks = a.SubmitMany(new object?[] { 1, 2 }, null).Concat(b.SubmitMany(new object?[] { 1, 2 }, null)).ToList();
        Assert.Equal(4, tasks.Select(t => t.Id).Distinct().Count());
        Assert.NotEqual(a.Id, b.Id);
        Assert.Equal(tasks[0].NativeId, tasks[2].NativeId); // the native ids do repeat
    }

    [Fact]
    public void A_per_call_pool_releases_itself_once_sealed_and_done_and_closes_when_emptied()
    {
        var pool = NewPool(2, perCall: true);
        int closed = 0;
        pool.Closed += (_, _) => Interlocked.Increment(ref closed);
        var tasks = pool.SubmitMany(Enumerable.Range(1, 6).Cast<object?>().ToList(), Work((w, t) => (int)t.Input! * 10));
        Assert.True(pool.WaitAll(tasks, Long));
        Assert.False(pool.IsDisposed, "not sealed yet: its call may still submit");
        pool.Seal();
        Until(() => pool.IsDisposed, "the sealed pool released its workers");
        Assert.Throws<InvalidOperationException>(() => pool.Submit(1, null));

        // Tasks stay readable and waitable after the release.
        Assert.All(tasks, t => Assert.Equal(ParallelTaskState.Completed, t.State));
        Assert.Equal(60, tasks.Last().Output.Single());
        Assert.True(pool.WaitAll(tasks, TimeSpan.Zero));
        Assert.Same(tasks[0], pool.WaitAny(tasks, TimeSpan.Zero));
        Assert.Equal(6, pool.Counts.Completed);
        Assert.Equal(0, closed);

        foreach (var task in tasks) pool.Remove(task);
        Assert.Equal(1, closed);
        Assert.All(tasks, t => Assert.True(t.IsRemoved));
        Assert.Equal(0, pool.TaskCount);
        pool.Dispose();
        Assert.Equal(1, closed);
    }

    [Fact]
    public void A_per_call_pool_sealed_with_running_tasks_releases_after_they_finish()
    {
        var pool = NewPool(1, perCall: true);
        using var gate = new ManualResetEventSlim();
        var task = pool.Submit(null, Work((w, t) => { gate.Wait(Long); return "done"; }));
        pool.Seal();
        Thread.Sleep(100);
        Assert.False(pool.IsDisposed, "its task is still running");
        gate.Set();
        Until(() => pool.IsDisposed, "the pool released itself");
        Assert.Equal("done", task.Output.Single());
        Assert.Equal(ParallelTaskState.Completed, task.State);
        pool.Remove(task);
    }

    [Fact]
    public void An_empty_per_call_pool_closes_when_sealed()
    {
        var pool = NewPool(1, perCall: true);
        bool closed = false;
        pool.Closed += (_, _) => closed = true;
        pool.Seal();
        Assert.True(closed);
        Assert.True(pool.IsDisposed);
    }

    [Fact]
    public void Dispose_freezes_task_states_so_they_stay_readable()
    {
        var pool = NewPool(1);
        using var started = new ManualResetEventSlim();
        var done = pool.Submit(null, Work((w, t) => 1));
        Assert.True(pool.WaitAll(new[] { done }, Long));
        var running = pool.Submit(null, Work((w, t) => { started.Set(); while (!w.StopRequested) Thread.Sleep(5); return null; }));
        var queued = pool.Submit(null, Work((w, t) => "never"));
        Assert.True(started.Wait(Long));
        pool.Dispose();
        Assert.True(pool.IsDisposed);
        Assert.Equal(ParallelTaskState.Completed, done.State);
        Assert.Equal(ParallelTaskState.Stopped, running.State);
        Assert.Equal(ParallelTaskState.Stopped, queued.State);
        Assert.Contains("shut down", queued.StatusMessage);
        Assert.True(pool.WaitAll(new[] { done, running, queued }, TimeSpan.Zero));
        Assert.Equal(3, pool.Tasks.Count());
        pool.Stop(running); // no effect, no error
        pool.Remove(done);
        Assert.True(done.IsRemoved);
        Assert.Throws<ObjectDisposedException>(() => pool.Submit(null, null));
    }

    [Fact]
    public void Waiting_across_pools_reports_progress_and_finds_finished_tasks()
    {
        using var a = NewPool(2);
        using var b = NewPool(1);
        using var gate = new ManualResetEventSlim();
        var quick = a.SubmitMany(new object?[] { 1, 2, 3 }, Work((w, t) => t.Input));
        var slow = b.Submit(null, Work((w, t) => { gate.Wait(Long); return "slow"; }));
        var all = quick.Append(slow).ToList();
        var waiter = new TaskWaiter(all);

        var any = waiter.WaitAny(Long);
        Assert.NotNull(any);
        Assert.All(any!, t => Assert.True(t.IsFinished));

        var progress = new List<WaitProgress>();
        Assert.False(waiter.WaitAll(TimeSpan.FromMilliseconds(300), default, progress.Add), "slow is held at the gate");
        Assert.NotEmpty(progress);
        Assert.All(progress, p => Assert.Equal(4, p.Total));
        Assert.Equal(3, progress.Last().Finished);
        Assert.Equal(new[] { slow }, waiter.Unfinished());

        using var cancel = new CancellationTokenSource(150);
        var sw = Stopwatch.StartNew();
        Assert.ThrowsAny<OperationCanceledException>(() => waiter.WaitAll(Timeout.InfiniteTimeSpan, cancel.Token));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"cancellation took {sw.Elapsed}");

        gate.Set();
        Assert.True(waiter.WaitAll(Long));
        Assert.Equal(4, waiter.Finished().Count);
        Assert.Empty(waiter.Unfinished());
        Assert.Equal(4, waiter.Progress().Finished);
    }

    [Fact]
    public void WaitAny_across_pools_times_out_and_removed_tasks_are_refused()
    {
        using var a = NewPool(1);
        using var b = NewPool(1);
        using var gate = new ManualResetEventSlim();
        var x = a.Submit(null, Work((w, t) => { gate.Wait(Long); return null; }));
        var y = b.Submit(null, Work((w, t) => { gate.Wait(Long); return null; }));
        var sw = Stopwatch.StartNew();
        Assert.Null(new TaskWaiter(new[] { x, y }).WaitAny(TimeSpan.FromMilliseconds(200)));
        Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(150), $"returned after {sw.Elapsed}");
        gate.Set();
        Assert.True(new TaskWaiter(new[] { x, y }).WaitAll(Long));
        a.Remove(x);
        var e = Assert.Throws<TaskRemovedException>(() => new TaskWaiter(new[] { x, y }));
        Assert.Same(x, e.Task);
    }
}
