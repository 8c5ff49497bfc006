using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using SyncPool;
using SyncPool.Table;
using Xunit;
using Xunit.Abstractions;

namespace SyncPool.Tests;

/// <summary>Many threads on the same keys; exact totals afterwards.</summary>
public class TableConcurrencyTests(ITestOutputHelper log)
{
    private static void OnThreads(int threads, Action<int> body)
    {
        using var start = new Barrier(threads);
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var workers = Enumerable.Range(0, threads).Select(i => new Thread(() =>
        {
            try { start.SignalAndWait(); body(i); }
            catch (Exception e) { failures.Enqueue(e); }
        })).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) Assert.True(w.Join(TimeSpan.FromSeconds(60)), "worker thread hung");
        if (!failures.IsEmpty) throw new AggregateException(failures);
    }

    [Fact]
    public void Increment_never_loses_an_update()
    {
        using var t = new SyncTable();
        OnThreads(4, _ => { for (int i = 0; i < 25_000; i++) t.Increment("x"); });
        Assert.Equal(100_000, t["x"]);

        // The same pattern on a synchronized Hashtable loses updates; reported, not asserted.
        var h = Hashtable.Synchronized(new Hashtable { ["x"] = 0 });
        OnThreads(4, _ => { for (int i = 0; i < 25_000; i++) h["x"] = (int)h["x"]! + 1; });
        log.WriteLine($"Hashtable.Synchronized read-then-write: {h["x"]} of 100000 ({100_000 - (int)h["x"]!} lost)");
    }

    [Fact]
    public void Increment_handles_doubles_deltas_and_errors()
    {
        using var t = new SyncTable();
        Assert.Equal(5, t.Increment("n", 5));
        Assert.Equal(3, t.Increment("n", -2));
        Assert.Equal(3.5, t.Increment("n", 0.5));
        Assert.Equal(1.5, t.Increment("d", 1.5));
        t["s"] = "text";
        var e = Assert.Throws<SyncPoolException>(() => t.Increment("s"));
        Assert.Equal("SyncPool.NotNumeric", e.ErrorId);
        Assert.Contains("'s'", e.Message);
        Assert.Equal("text", t["s"]);
        t["max"] = long.MaxValue;
        var overflow = Assert.Throws<SyncPoolException>(() => t.Increment("max"));
        Assert.Equal("SyncPool.Overflow", overflow.ErrorId);
        Assert.Equal(long.MaxValue, t["max"]);
        Assert.Throws<SyncPoolException>(() => t.Increment("n", "1"));
    }

    [Fact]
    public void CompareExchange_swaps_only_on_match()
    {
        using var t = new SyncTable();
        t["k"] = 1;
        Assert.False(t.CompareExchange("k", 2, 3));
        Assert.True(t.CompareExchange("k", 1, 3));
        Assert.Equal(3, t["k"]);
        Assert.False(t.CompareExchange("absent", null, 1));
        t["s"] = "Abc";
        Assert.False(t.CompareExchange("s", "abc", "x")); // values compare ordinally
        Assert.True(t.CompareExchange("s", "Abc", "x"));
    }

    [Fact]
    public void CompareExchange_loops_give_exact_totals()
    {
        using var t = new SyncTable();
        t["c"] = 0;
        OnThreads(4, _ =>
        {
            for (int i = 0; i < 5_000; i++)
            {
                while (true)
                {
                    var seen = t["c"];
                    if (t.CompareExchange("c", seen, (int)seen! + 1)) break;
                }
            }
        });
        Assert.Equal(20_000, t["c"]);
    }

    [Fact]
    public void GetOrAdd_adds_once()
    {
        using var t = new SyncTable();
        int added = 0;
        OnThreads(4, i => { if (t.TryAdd("once", i)) Interlocked.Increment(ref added); });
        Assert.Equal(1, added);
        Assert.Equal(t["once"], t.GetOrAdd("once", 99));
        Assert.Equal(7, t.GetOrAdd("new", 7));
    }

    [Fact]
    public void Update_retries_and_never_loses_an_update()
    {
        using var t = new SyncTable();
        OnThreads(4, _ => { for (int i = 0; i < 2_000; i++) t.Update("u", old => (old is null ? 0 : (int)old) + 1); });
        Assert.Equal(8_000, t["u"]);
        Assert.Equal("a-b", t.Update("s", old => old is null ? "a-b" : old + "!"));
    }

    [Fact]
    public void Update_gives_up_with_a_clear_error_when_the_key_keeps_changing()
    {
        using var t = new SyncTable();
        t["k"] = 0;
        var e = Assert.Throws<SyncPoolException>(() => t.Update("k", old => { t.Increment("k"); return -1; }, maxAttempts: 5));
        Assert.Contains("gave up after 5 attempts", e.Message);
        Assert.Equal(5, t["k"]); // only the interfering increments landed
    }

    [Fact]
    public void Update_exception_leaves_the_value_unchanged()
    {
        using var t = new SyncTable();
        t["k"] = 1;
        Assert.Throws<InvalidOperationException>(() => t.Update("k", _ => throw new InvalidOperationException("boom")));
        Assert.Equal(1, t["k"]);
    }

    [Fact]
    public void Lock_protects_a_multi_key_invariant_and_is_released_on_exceptions()
    {
        using var t = new SyncTable();
        t["a"] = 500;
        t["b"] = 500;
        int violations = 0;
        OnThreads(4, i =>
        {
            for (int n = 0; n < 500; n++)
            {
                t.Lock("transfer", () =>
                {
                    var a = (int)t["a"]!;
                    var b = (int)t["b"]!;
                    if (a + b != 1000) Interlocked.Increment(ref violations);
                    t["a"] = a - 1;
                    t["b"] = b + 1;
                });
            }
        });
        Assert.Equal(0, violations);
        Assert.Equal(1000, (int)t["a"]! + (int)t["b"]!);
        Assert.Equal(-1500, t["a"]);

        Assert.Throws<InvalidOperationException>(() => t.Lock("transfer", () => throw new InvalidOperationException()));
        var other = Task.Run(() => t.Lock("transfer", () => { }, TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.True(other.Wait(TimeSpan.FromSeconds(10)), "lock was not released after an exception");
        t.Lock("re", () => t.Lock("re", () => t["inner"] = 1)); // re-entrant on one thread
        Assert.Equal(1, t["inner"]);
    }

    [Fact]
    public void Lock_times_out_and_honours_cancellation()
    {
        using var t = new SyncTable();
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holder = Task.Run(() => t.Lock("k", () => { held.Set(); release.Wait(); }));
        held.Wait();
        Assert.Throws<TimeoutException>(() => t.Lock("k", () => { }, TimeSpan.FromMilliseconds(200), CancellationToken.None));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var sw = Stopwatch.StartNew();
        Assert.ThrowsAny<OperationCanceledException>(() => t.Lock("k", () => { }, Timeout.InfiniteTimeSpan, cts.Token));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5));
        release.Set();
        holder.Wait();
    }

    [Fact]
    public void WaitFor_wakes_when_the_key_arrives()
    {
        using var t = new SyncTable();
        var waiter = Task.Run(() => t.WaitFor("result", TimeSpan.FromSeconds(30)));
        Thread.Sleep(100);
        Assert.False(waiter.IsCompleted);
        t["result"] = 1;
        Assert.True(waiter.Wait(TimeSpan.FromSeconds(10)));
        Assert.True(waiter.Result);
    }

    [Fact]
    public void WaitFor_times_out_and_can_be_cancelled()
    {
        using var t = new SyncTable();
        var sw = Stopwatch.StartNew();
        Assert.False(t.WaitFor("never", TimeSpan.FromMilliseconds(300)));
        Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(290), $"returned early after {sw.Elapsed}");
        using var cts = new CancellationTokenSource(200);
        Assert.ThrowsAny<OperationCanceledException>(() => t.WaitFor("never", Timeout.InfiniteTimeSpan, cts.Token));
    }

    [Fact]
    public void WaitForChange_wakes_on_the_next_write()
    {
        using var t = new SyncTable();
        t["k"] = 1;
        long version = t.GetVersion("k");
        Assert.False(t.WaitForChange("k", version, TimeSpan.FromMilliseconds(100)));
        var waiter = Task.Run(() => t.WaitForChange("k", version, TimeSpan.FromSeconds(30)));
        t["k"] = 2;
        Assert.True(waiter.Wait(TimeSpan.FromSeconds(10)) && waiter.Result);
        Assert.True(t.GetVersion("k") > version);
        Assert.Equal(-1, t.GetVersion("absent"));
    }

    [Fact]
    public void Enumerating_while_others_write_never_throws()
    {
        using var t = new SyncTable();
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(() =>
        {
            int i = 0;
            while (!stop.IsCancellationRequested)
            {
                t[$"k{w}-{i % 500}"] = i;
                if (i % 3 == 0) t.Remove($"k{w}-{(i + 250) % 500}");
                i++;
            }
        })).ToArray();
        int enumerations = 0;
        var until = Stopwatch.StartNew();
        while (until.Elapsed < TimeSpan.FromSeconds(1))
        {
            foreach (DictionaryEntry entry in t) Assert.NotNull(entry.Key);
            _ = t.Snapshot();
            _ = t.Keys;
            enumerations++;
        }
        stop.Cancel();
        Task.WaitAll(writers);
        Assert.True(enumerations > 0);
    }

    [Fact]
    public void Calls_without_a_gc_transition_survive_collections_and_object_releases_running_all_the_time()
    {
        // Reads, increments and plain writes run in managed mode inside the
        // core (DirectCalls): a collection must still stop every thread, and the
        // object releases other writes cause (callbacks into .NET) must never run
        // inside such a call. Threads mix all of it while another thread collects
        // over and over; any hang fails OnThreads' 60 s join.
        using var t = new SyncTable();
        using var stop = new CancellationTokenSource();
        var collector = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested) { GC.Collect(); Thread.Sleep(1); }
        });
        const int threads = 6, rounds = 25_000;
        try
        {
            OnThreads(threads, me =>
            {
                for (int n = 0; n < rounds; n++)
                {
                    switch (n % 5)
                    {
                        case 0:
                            t.Increment("counter");
                            // Deltas the core refuses: an object before adopting it (the
                            // ordinary call then reports it), a text inside the store.
                            if (n % 50 == 0) Assert.Throws<SyncPoolException>(() => t.Increment("counter", new object()));
                            if (n % 50 == 25) Assert.Throws<SyncPoolException>(() => t.Increment("counter", "one"));
                            break;
                        case 1: t[$"k{me}"] = n; break;
                        case 2: _ = t[$"k{(me + 1) % threads}"]; break;
                        case 3: t[$"obj{n % 8}"] = new object(); break; // replaces (and releases) objects
                        default: t[$"obj{(n + 3) % 8}"] = n; break;      // a plain value over an object: the ordinary write
                    }
                }
            });
        }
        finally
        {
            stop.Cancel();
            collector.Wait();
        }
        Assert.Equal(threads * rounds / 5, t["counter"]);
    }

    [Fact]
    public void Reads_the_way_PowerShell_makes_them_never_see_another_key_or_table()
    {
        // $t.key is IDictionary<string, object>.TryGetValue; code holding an
        // IDictionary calls Contains and then the indexer. Many threads reading
        // and writing the same keys of two tables, both ways, must only ever see
        // each key's own values.
        using var first = new SyncTable();
        using var second = new SyncTable();
        const int threads = 8, rounds = 20_000;
        for (int k = 0; k < threads; k++) { first[$"k{k}"] = k * 1_000_000; second[$"k{k}"] = -1; }
        var keys = Enumerable.Range(0, threads).Select(k => $"k{k}").ToArray();
        OnThreads(threads, me =>
        {
            IDictionary a = first, b = second;
            IDictionary<string, object?> named = first;
            for (int n = 1; n <= rounds; n++)
            {
                first[keys[me]] = me * 1_000_000 + n;
                var other = keys[(me + n) % threads];
                Assert.True(a.Contains(other));
                int seen = (int)a[other]!;
                Assert.Equal((me + n) % threads, seen / 1_000_000); // that key's own value, no other's
                Assert.True(named.TryGetValue(other, out var again));
                Assert.Equal((me + n) % threads, (int)again! / 1_000_000);
                Assert.True(b.Contains(keys[me]));
                Assert.Equal(-1, b[keys[me]]);                     // the other table's, not this one's
                Assert.True(named.TryGetValue(keys[me], out var mine));
                Assert.Equal(me * 1_000_000 + n, mine);            // my own last write, never an older read
            }
        });
        for (int k = 0; k < threads; k++) Assert.Equal(k * 1_000_000 + rounds, first[keys[k]]);
    }
}
