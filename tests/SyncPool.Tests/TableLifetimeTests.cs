using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using SyncPool.Native;
using SyncPool.Table;
using Xunit;

namespace SyncPool.Tests;

/// <summary>
/// The end of a table's life (closed in the core, freed by the finalizer) and
/// the one-call paths: long values the core parks, writes made without a GC
/// transition.
/// </summary>
[Collection("ObjectRegistry")] // object and parked counts are process-wide
public class TableLifetimeTests
{
    private sealed class Service { }

    [Fact]
    public void Long_text_and_bytes_come_back_whole_from_every_call_that_returns_a_value()
    {
        using var t = new SyncTable();
        var text = string.Concat(Enumerable.Repeat("long text é ", 2000));
        var bytes = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();
        t["text"] = text;
        t["bytes"] = bytes;
        Assert.Equal(text, t["text"]);
        Assert.Equal(bytes, (byte[])t["bytes"]!);
        Assert.Equal(text, t.GetOrAdd("text", "other"));
        Assert.True(t.WaitForValue("text", null, TimeSpan.FromSeconds(5), 0, out var waited));
        Assert.Equal(text, waited);
        Assert.True(t.TryRemove("bytes", out var removed));
        Assert.Equal(bytes, (byte[])removed!);
        Assert.Equal(text, t.Snapshot()["text"]);
        Assert.Equal(0UL, Interop.syncpool_parked_open());
    }

    [Fact]
    public void Text_exactly_at_the_buffer_size_and_one_byte_over_round_trip()
    {
        using var t = new SyncTable();
        foreach (int length in new[] { ValueCodec.ReadBufferBytes - 1, ValueCodec.ReadBufferBytes, ValueCodec.ReadBufferBytes + 1 })
        {
            var text = new string('x', length);
            t["k"] = text;
            Assert.Equal(text, t["k"]);
        }
        Assert.Equal(0UL, Interop.syncpool_parked_open());
    }

    [Fact]
    public void Removing_a_table_while_other_threads_use_it_never_crashes_and_refuses_every_later_call()
    {
        int objectsBefore = ObjectRegistry.Count;
        var t = new SyncTable();
        using var started = new CountdownEvent(4);
        var refused = new int[4];
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            started.Signal();
            for (int i = 0; ; i++)
            {
                try
                {
                    t[$"k{i % 50}"] = i % 3 == 0 ? new Service() : i;
                    _ = t[$"k{(i + 7) % 50}"];
                    try { t.Increment($"n{w}"); } catch (SyncPoolException) { }
                }
                catch (ObjectDisposedException)
                {
                    refused[w]++;
                    return;
                }
            }
        })).ToArray();
        started.Wait();
        Thread.Sleep(50);
        t.Dispose();
        Assert.True(Task.WaitAll(workers, TimeSpan.FromSeconds(30)), "a worker hung after the table was removed");
        Assert.All(refused, count => Assert.Equal(1, count));
        Assert.True(t.IsDisposed);
        Assert.Equal(objectsBefore, ObjectRegistry.Count); // every object written, before or during the removal, was released
        Assert.Throws<ObjectDisposedException>(() => t.TryGetValue("k1", out _));
        Assert.Throws<ObjectDisposedException>(() => t.Set("k1", 1));
        Assert.Throws<ObjectDisposedException>(() => t.Increment("n"));
        Assert.Throws<ObjectDisposedException>(() => t.ContainsKey("k1"));
        Assert.Throws<ObjectDisposedException>(() => t.Snapshot());
        Assert.Throws<ObjectDisposedException>(() => t.Clear());
        Assert.Throws<ObjectDisposedException>(() => t.WaitFor("k1", TimeSpan.FromSeconds(1)));
        Assert.Throws<ObjectDisposedException>(() => t.Lock("k1", () => { }));
        t.Dispose(); // twice is fine
    }

    [Fact]
    public void Removing_a_table_wakes_a_thread_waiting_on_it()
    {
        var t = new SyncTable();
        var waiter = Task.Run(() => t.WaitFor("never", Timeout.InfiniteTimeSpan));
        Thread.Sleep(100);
        Assert.False(waiter.IsCompleted);
        var sw = Stopwatch.StartNew();
        t.Dispose();
        var ended = Assert.ThrowsAny<AggregateException>(() => waiter.Wait(TimeSpan.FromSeconds(10)));
        Assert.IsType<ObjectDisposedException>(ended.InnerException);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"woken after {sw.Elapsed}");
    }

    [Fact]
    public void Writes_that_run_without_a_gc_transition_hand_object_replacements_to_the_ordinary_write()
    {
        // A plain value over a key holding a live object: the direct write refuses
        // (the object's release calls into .NET), the ordinary one writes and releases.
        using var t = new SyncTable();
        int before = ObjectRegistry.Count;
        t["k"] = new Service();
        Assert.Equal(before + 1, ObjectRegistry.Count);
        t["k"] = 5;
        Assert.Equal(5, t["k"]);
        Assert.Equal(before, ObjectRegistry.Count);

        // An object over a plain value, and over another object.
        var first = new Service();
        t["k"] = first;
        Assert.Same(first, t["k"]);
        t["k"] = new Service();
        Assert.NotSame(first, t["k"]);
        Assert.Equal(before + 1, ObjectRegistry.Count);

        // Incrementing by something that is not a number goes the ordinary way and is refused.
        t["n"] = 1;
        Assert.ThrowsAny<Exception>(() => t.Increment("n", new Service()));
        Assert.Equal(before + 1, ObjectRegistry.Count);
        Assert.Equal(2, t.Increment("n"));
        Assert.Equal(3.5, t.Increment("n", 1.5));

        t.Remove("k");
        Assert.Equal(before, ObjectRegistry.Count);
    }

    [Fact]
    public void A_direct_write_of_a_removed_table_is_refused_like_any_other_call()
    {
        var t = new SyncTable();
        t["k"] = 1;
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t["k"] = 2);
        Assert.Throws<ObjectDisposedException>(() => t.Increment("k"));
        Assert.Throws<ObjectDisposedException>(() => t.TryGetValue("k", out _));
        Assert.Throws<ObjectDisposedException>(() => ((IDictionary<string, object?>)t).TryGetValue("k", out _));
    }

    [Fact]
    public void A_table_that_is_never_removed_is_freed_by_the_garbage_collector()
    {
        int before = ObjectRegistry.Count;
        FillAndForget();
        for (int i = 0; i < 5 && ObjectRegistry.Count != before; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.Equal(before, ObjectRegistry.Count);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FillAndForget()
    {
        var t = new SyncTable();
        for (int i = 0; i < 10; i++) t[i] = new Service();
    }

    [Fact]
    public void Small_ints_come_back_from_a_cache_and_large_ones_exactly()
    {
        using var t = new SyncTable();
        t["small"] = 7;
        t["big"] = 1_000_000;
        t["huge"] = long.MaxValue;
        Assert.Same(t["small"], t["small"]);
        Assert.Equal(1_000_000, t["big"]);
        Assert.Equal(long.MaxValue, t["huge"]);
        t["neg"] = -129;
        Assert.Equal(-129, t["neg"]);
    }
}
