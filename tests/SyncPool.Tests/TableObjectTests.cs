using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using SyncPool.Native;
using SyncPool.Table;
using Xunit;

namespace SyncPool.Tests;

/// <summary>Live objects come back as the same instances and are released when they leave the table.</summary>
[Collection("ObjectRegistry")] // counts are process-wide: no parallel tests touching them
public class TableObjectTests
{
    private sealed class Service { public int Calls; public int Ping() => ++Calls; }

    [Fact]
    public void Live_objects_come_back_as_the_same_instance_on_other_threads()
    {
        using var t = new SyncTable();
        var service = new Service();
        t["svc"] = service;
        var seen = Task.Run(() => t["svc"]).Result;
        Assert.Same(service, seen);
        Assert.Equal(1, ((Service)seen!).Ping());
    }

    [Fact]
    public void Handles_are_released_on_overwrite_remove_clear_and_dispose()
    {
        int before = ObjectRegistry.Count;
        var t = new SyncTable();
        t["a"] = new Service();
        t["b"] = new Service();
        t["c"] = new Service();
        t["d"] = new List<int>();
        Assert.Equal(before + 4, ObjectRegistry.Count);
        t["a"] = 1;                     // overwritten
        Assert.Equal(before + 3, ObjectRegistry.Count);
        t.Remove("b");                  // removed
        Assert.Equal(before + 2, ObjectRegistry.Count);
        t.TryRemove("c", out var taken); // removed and handed back
        Assert.IsType<Service>(taken);
        Assert.Equal(before + 1, ObjectRegistry.Count);
        t["e"] = new Service();
        t.Clear();                      // cleared
        Assert.Equal(before, ObjectRegistry.Count);
        t["f"] = new Service();
        _ = t.Snapshot();
        _ = t.Values;
        t.Dispose();                    // disposed
        Assert.Equal(before, ObjectRegistry.Count);
        Assert.Equal(0UL, Interop.syncpool_object_leases_open());
    }

    [Fact]
    public void A_failed_write_does_not_leak_the_object()
    {
        int before = ObjectRegistry.Count;
        using var t = new SyncTable();
        Assert.ThrowsAny<Exception>(() => t.Set("bad\uDC00", new Service()));
        t["n"] = "text";
        Assert.Throws<SyncPoolException>(() => t.Increment("n", new Service()));
        Assert.Equal(before, ObjectRegistry.Count);
    }

    [Fact]
    public void Concurrent_object_reads_and_overwrites_are_safe()
    {
        int before = ObjectRegistry.Count;
        using var t = new SyncTable();
        t["o"] = new Service();
        var writer = Task.Run(() => { for (int i = 0; i < 20_000; i++) t["o"] = new Service(); });
        var reader = Task.Run(() => { for (int i = 0; i < 20_000; i++) Assert.IsType<Service>(t["o"]); });
        Task.WaitAll(writer, reader);
        t.Clear();
        Assert.Equal(before, ObjectRegistry.Count);
        Assert.Equal(0UL, Interop.syncpool_object_leases_open());
    }
}

[CollectionDefinition("ObjectRegistry", DisableParallelization = true)]
public class ObjectRegistryCollection { }
