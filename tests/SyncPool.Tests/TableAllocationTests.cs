using System;
using System.Collections;
using System.Collections.Generic;
using SyncPool.Table;
using Xunit;

namespace SyncPool.Tests;

/// <summary>
/// A keyed call allocates nothing on the .NET heap beyond the value it
/// returns: keys and short values cross on the stack, results come back in
/// flat structs. (Speed is measured in tests/bench; this checks the bytes.)
/// </summary>
public class TableAllocationTests
{
    private const int Calls = 1000;

    private static long AllocatedBy(Action body)
    {
        body(); // warm: JIT, statics
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++) body();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void Writes_contains_increments_and_small_int_reads_allocate_nothing()
    {
        using var t = new SyncTable();
        IDictionary d = t;
        object key = "counter", other = "name", value = 5, text = "short text value", intKey = 7, zero = 0;
        t[key] = 0;
        t[other] = "x";
        Assert.Equal(0, AllocatedBy(() => t[other] = value));
        Assert.Equal(0, AllocatedBy(() => t[other] = text));
        Assert.Equal(0, AllocatedBy(() => t.Set(intKey, value)));
        Assert.Equal(0, AllocatedBy(() => _ = t.ContainsKey(key)));
        t[key] = 5;
        Assert.Equal(0, AllocatedBy(() => _ = t[key]));                     // a cached small-int box
        IDictionary<string, object?> named = t;
        Assert.Equal(0, AllocatedBy(() => named.TryGetValue("counter", out _))); // PowerShell's $t.counter
        Assert.Equal(0, AllocatedBy(() => { if (d.Contains(key)) _ = d[key]; }));
        Assert.Equal(0, AllocatedBy(() => { t[key] = zero; t.Increment(key); }));
    }

    [Fact]
    public void Reading_text_allocates_only_the_string_it_returns()
    {
        using var t = new SyncTable();
        object key = "name";
        t[key] = "Ada Lovelace";
        long bytes = AllocatedBy(() => _ = t[key]);
        long oneString = AllocatedBy(() => _ = new string('x', "Ada Lovelace".Length));
        Assert.Equal(oneString, bytes);
    }
}
