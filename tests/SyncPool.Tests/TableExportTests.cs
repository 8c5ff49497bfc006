using System;
using SyncPool;
using SyncPool.Table;
using Xunit;

namespace SyncPool.Tests;

public class TableExportTests
{
    [Fact]
    public void Export_and_import_round_trip_exactly()
    {
        using var t = new SyncTable();
        t["int"] = 1;
        t["long"] = long.MinValue;
        t["double"] = 1.0;          // stays a double, not an int
        t["nan"] = double.NaN;
        t["negzero"] = -0.0;
        t["text"] = "東京 \"quoted\"";
        t["bool"] = false;
        t["null"] = null;
        t["bytes"] = new byte[] { 1, 2, 3 };
        t["date"] = new DateTime(2026, 11, 22, 0, 0, 0, DateTimeKind.Utc);
        t[42] = "int key";
        t["42"] = "text key";
        string json = t.ExportJson();

        using var copy = new SyncTable();
        Assert.Equal(12, copy.ImportJson(json));
        Assert.IsType<int>(copy["int"]);
        Assert.Equal(long.MinValue, copy["long"]);
        Assert.IsType<double>(copy["double"]);
        Assert.True(double.IsNaN((double)copy["nan"]!));
        Assert.True(double.IsNegative((double)copy["negzero"]!));
        Assert.Equal("東京 \"quoted\"", copy["text"]);
        Assert.Equal(false, copy["bool"]);
        Assert.True(copy.ContainsKey("null"));
        Assert.Equal(new byte[] { 1, 2, 3 }, copy["bytes"]);
        Assert.Equal(DateTimeKind.Utc, ((DateTime)copy["date"]!).Kind);
        Assert.Equal("int key", copy[42]);
        Assert.Equal("text key", copy["42"]);
        Assert.Equal(t.Count, copy.Count);
    }

    [Fact]
    public void Live_objects_are_refused_by_key()
    {
        using var t = new SyncTable();
        t["fine"] = 1;
        t["host"] = new object();
        var e = Assert.Throws<SyncPoolException>(() => t.ExportJson());
        Assert.Equal("SyncPool.NotSerializable", e.ErrorId);
        Assert.Contains("host", e.Message);
    }

    [Fact]
    public void Bad_imports_write_nothing()
    {
        using var t = new SyncTable();
        t["keep"] = 1;
        var e = Assert.Throws<SyncPoolException>(() => t.ImportJson("{ not json"));
        Assert.Equal("SyncPool.BadFormat", e.ErrorId);
        var version = Assert.Throws<SyncPoolException>(() => t.ImportJson("{\"format\":\"syncpool-table/9\",\"entries\":[]}"));
        Assert.Contains("unsupported format", version.Message);
        // A good entry before a bad one: still nothing is written.
        Assert.Throws<SyncPoolException>(() => t.ImportJson("{\"a\": 1, \"a\": 2}"));
        Assert.Throws<SyncPoolException>(() => t.ImportJson("[1, 2]"));
        Assert.Equal(1, t.Count);
        Assert.Equal(1, t["keep"]);
    }

    [Fact]
    public void Import_with_replace_clears_first()
    {
        using var source = new SyncTable();
        source["a"] = 1;
        using var t = new SyncTable();
        t["old"] = 1;
        t.ImportJson(source.ExportJson(), replace: true);
        Assert.False(t.ContainsKey("old"));
        Assert.Equal(1, t["a"]);
    }
}
