using System.Diagnostics;
using SyncPool.Pool;

namespace SyncPool.Bench;

/// <summary>
/// The pool engine with C# workers (no PowerShell runspaces): scheduling
/// overhead, timer accuracy, wake-up latency and memory over many tasks.
/// </summary>
static class PoolBench
{
    private sealed class DelegateWorker : ITaskWorker
    {
        public bool Run(ParallelTask task) { ((Action<ParallelTask>)task.Work!)(task); return true; }
        public void RequestStop(ParallelTask task) { }
        public void Dispose() { }
    }

    private static TaskPool NewPool(int throttle) => new(throttle, _ => new DelegateWorker());

    public static void Run(Report report)
    {
        report.Line("## Task pool engine (C# workers; PowerShell runspaces not involved)");
        report.Line();
        report.Line("| measurement | result | compared with | ratio | issue target |");
        report.Line("|---|---|---|---|---|");
        SleepingTasks(report);
        Latency(report);
        TrivialItems(report);
        Memory(report);
        report.Line();
    }

    private static void SleepingTasks(Report report)
    {
        using var pool = NewPool(20);
        var inputs = Enumerable.Range(0, 200).Select(i => (object?)i).ToList();
        var wall = Measure.Best(3, () =>
        {
            var tasks = pool.SubmitMany(inputs, (Action<ParallelTask>)(_ => Thread.Sleep(50)));
            pool.WaitAll(tasks, TimeSpan.FromMinutes(1));
            foreach (var t in tasks) pool.Remove(t);
        });
        var ideal = TimeSpan.FromMilliseconds(200 / 20 * 50);
        report.Line($"| 200 tasks sleeping 50 ms, throttle 20 (wall) | {wall.TotalSeconds:F3} s | ideal {ideal.TotalSeconds:F3} s | {wall / ideal:F3} | ≤ 1.10 |");
    }

    private static void Latency(Report report)
    {
        using var pool = NewPool(4);
        var warm = pool.SubmitMany(Enumerable.Range(0, 8).Select(i => (object?)i).ToList(), (Action<ParallelTask>)(_ => { }));
        pool.WaitAll(warm, TimeSpan.FromSeconds(10));
        var dispatch = new List<double>();
        var wake = new List<double>();
        for (int i = 0; i < 200; i++)
        {
            long submitted = 0, started = 0, ended = 0;
            submitted = Stopwatch.GetTimestamp();
            var task = pool.Submit(null, (Action<ParallelTask>)(_ => { started = Stopwatch.GetTimestamp(); ended = Stopwatch.GetTimestamp(); }));
            pool.WaitAll(new[] { task }, TimeSpan.FromSeconds(10));
            long returned = Stopwatch.GetTimestamp();
            dispatch.Add(Stopwatch.GetElapsedTime(submitted, started).TotalMilliseconds);
            wake.Add(Stopwatch.GetElapsedTime(ended, returned).TotalMilliseconds);
            pool.Remove(task);
        }
        report.Line($"| dispatch latency on a warm pool, submit → first statement (median of 200) | {Measure.Median(dispatch):F3} ms | | | ≤ 1 ms |");
        report.Line($"| wake-up after the last task ends → WaitAll returns (median of 200) | {Measure.Median(wake):F3} ms | | | ≤ 5 ms |");
    }

    private static void TrivialItems(Report report)
    {
        const int items = 10_000;
        using var pool = NewPool(4);
        var inputs = Enumerable.Range(0, items).Select(i => (object?)i).ToList();
        var pooled = Measure.Best(3, () =>
        {
            var tasks = pool.SubmitMany(inputs, (Action<ParallelTask>)(t => t.AddOutput((int)t.Input! * 2)));
            pool.WaitAll(tasks, TimeSpan.FromMinutes(1));
            foreach (var t in tasks) pool.Remove(t);
        });
        report.Line($"| 10,000 trivial items, one task each, throttle 4 (wall) | {pooled.TotalMilliseconds:F1} ms | per task: {pooled.TotalMilliseconds * 1000 / items:F1} µs | | per-item cost of the engine alone |");
    }

    private static void Memory(Report report)
    {
        using var pool = NewPool(4);
        void Batch(int n)
        {
            var tasks = pool.SubmitMany(Enumerable.Range(0, n).Select(i => (object?)i).ToList(), (Action<ParallelTask>)(t => t.AddOutput(t.Input)));
            pool.WaitAll(tasks, TimeSpan.FromMinutes(2));
            foreach (var t in tasks) pool.Remove(t);
        }
        Batch(5_000); // warm up
        Settle();
        long before = Rss(), managedBefore = GC.GetTotalMemory(true);
        for (int round = 0; round < 10; round++) Batch(5_000);
        Settle();
        long after = Rss(), managedAfter = GC.GetTotalMemory(true);
        report.Line($"| 50,000 tasks through one pool, growth after GC | RSS {(after - before) / 1e6:F1} MB, managed {(managedAfter - managedBefore) / 1e6:F1} MB | | | ≤ 50 MB |");
    }

    private static void Settle()
    {
        for (int i = 0; i < 3; i++) { GC.Collect(); GC.WaitForPendingFinalizers(); }
    }

    private static long Rss() =>
        long.Parse(File.ReadAllText("/proc/self/statm").Split(' ')[1]) * Environment.SystemPageSize;
}
