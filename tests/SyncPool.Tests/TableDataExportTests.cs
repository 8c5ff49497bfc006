using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Linq;
using SyncPool;
using SyncPool.Table;
using Xunit;

namespace SyncPool.Tests;

/// <summary>
/// Values users keep in tables (arrays, dictionaries, decimals, GUIDs...)
/// saved as data and read back as the same types. [PSCustomObject]s need
/// PowerShell loaded and are covered by the Pester suite.
/// </summary>
[Collection("ObjectRegistry")]
public class TableDataExportTests
{
    private enum Color : byte { Red = 1, Green = 2 }

    private static SyncTable RoundTrip(SyncTable source)
    {
        var copy = new SyncTable();
        copy.ImportJson(source.ExportJson());
        return copy;
    }

    [Fact]
    public void Structured_values_come_back_as_their_own_types()
    {
        using var t = new SyncTable();
        var ordered = new OrderedDictionary { ["z"] = 1, ["a"] = new object?[] { "x", null } };
        t["array"] = new object?[] { 1, "two", 3.5, null, new[] { 4, 5 } };
        t["list"] = new List<string> { "a", "b" };
        t["hash"] = new Hashtable { ["a"] = 1, [2] = "int key", ["nested"] = new Hashtable { ["deep"] = true } };
        t["ordered"] = ordered;
        t["decimal"] = 1.10m;
        t["guid"] = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
        t["span"] = TimeSpan.FromMilliseconds(1500);
        t["enum"] = Color.Green;
        t["enums"] = new object[] { Color.Green };
        t["day"] = DayOfWeek.Friday;
        t["uri"] = new Uri("https://example.org/a?b=1");
        t["relative"] = new Uri("../up", UriKind.Relative);
        t["version"] = new Version(1, 2, 3);
        t["offset"] = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(-5.5));
        t["char"] = 'é';
        t["long"] = new object[] { 5L, (short)6, (byte)7, (sbyte)-8, (ushort)9, 10u, ulong.MaxValue, 1.5f };

        using var copy = RoundTrip(t);
        var array = Assert.IsType<object?[]>(copy["array"]);
        Assert.Equal(new object?[] { 1, "two", 3.5, null }, array.Take(4));
        Assert.Equal(new object[] { 4, 5 }, Assert.IsType<object?[]>(array[4]));
        Assert.Equal(new object[] { "a", "b" }, Assert.IsType<object?[]>(copy["list"]));
        var hash = Assert.IsType<Hashtable>(copy["hash"]);
        Assert.Equal(1, hash["A"]); // PowerShell's @{}: keys ignore case
        Assert.Equal("int key", hash[2]);
        Assert.Equal(true, Assert.IsType<Hashtable>(hash["nested"])["deep"]);
        var back = Assert.IsType<OrderedDictionary>(copy["ordered"]);
        Assert.Equal(new object[] { "z", "a" }, back.Keys.Cast<object>());
        Assert.Equal("1.10", ((decimal)copy["decimal"]!).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(t["guid"], copy["guid"]);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), copy["span"]);
        // Enums come back as their values: inside a container as the underlying
        // type, as a table value like any integer the table stores ([int]).
        Assert.Equal(2, copy["enum"]);
        Assert.Equal(new object[] { (byte)2 }, Assert.IsType<object?[]>(copy["enums"]));
        Assert.Equal(5, copy["day"]);
        Assert.Equal(new Uri("https://example.org/a?b=1"), copy["uri"]);
        Assert.Equal("../up", ((Uri)copy["relative"]!).OriginalString);
        Assert.Equal(new Version(1, 2, 3), copy["version"]);
        var offset = Assert.IsType<DateTimeOffset>(copy["offset"]);
        Assert.Equal(t["offset"], offset);
        Assert.Equal(TimeSpan.FromHours(-5.5), offset.Offset);
        Assert.Equal('é', copy["char"]);
        Assert.Equal(new object[] { 5L, (short)6, (byte)7, (sbyte)-8, (ushort)9, 10u, ulong.MaxValue, 1.5f }, Assert.IsType<object?[]>(copy["long"]));
        Assert.Equal(copy.ExportJson(), RoundTrip(copy).ExportJson()); // deterministic, and stable once read back
    }

    [Fact]
    public void Every_value_that_is_not_data_is_named_and_the_message_points_to_clixml()
    {
        using var t = new SyncTable();
        t["fine"] = new[] { 1, 2 };
        t["live"] = new System.IO.MemoryStream();
        t["nested"] = new Hashtable { ["inner"] = new object[] { 1, new System.Text.StringBuilder() } };
        t["table"] = new SyncTable();
        var e = Assert.Throws<SyncPoolException>(() => t.ExportJson());
        Assert.Equal("SyncPool.NotSerializable", e.ErrorId);
        Assert.Contains("Cannot export 3 keys", e.Message);
        Assert.Contains("'live' holds a System.IO.MemoryStream", e.Message);
        Assert.Contains("'nested' holds a System.Text.StringBuilder at {'inner'}[1]", e.Message);
        Assert.Contains("'table' holds a SyncPool.Table.SyncTable", e.Message);
        Assert.Contains("-AsClixml", e.Message);
    }

    [Fact]
    public void Nesting_is_saved_to_the_stated_depth_and_a_value_that_contains_itself_is_refused()
    {
        using var t = new SyncTable();
        object deepest = "bottom";
        for (int i = 0; i < PowerShellData.MaxDepth; i++) deepest = new object[] { deepest };
        t["deep"] = deepest;
        using var copy = RoundTrip(t);
        object? walk = copy["deep"];
        for (int i = 0; i < PowerShellData.MaxDepth; i++) walk = Assert.IsType<object?[]>(walk)[0];
        Assert.Equal("bottom", walk);

        t["deeper"] = new object[] { deepest };
        var self = new ArrayList();
        self.Add(self);
        t["self"] = self;
        var e = Assert.Throws<SyncPoolException>(() => t.ExportJson());
        Assert.Contains("'deeper' holds a value nested deeper than 50 levels", e.Message);
        Assert.Contains("'self' holds a value nested deeper than 50 levels", e.Message);
    }

    [Fact]
    public void A_plain_json_object_imports_its_members_as_entries()
    {
        using var t = new SyncTable();
        Assert.Equal(4, t.ImportJson("{\"n\": 5000000000, \"list\": [1, \"a\", null, 2.5], \"flag\": true, \"when\": \"2026-01-01T00:00:00\"}"));
        Assert.Equal(5_000_000_000L, t["n"]);
        Assert.Equal(new object?[] { 1, "a", null, 2.5 }, Assert.IsType<object?[]>(t["list"]));
        Assert.Equal(true, t["flag"]);
        Assert.Equal("2026-01-01T00:00:00", t["when"]); // text stays text
        var e = Assert.Throws<SyncPoolException>(() => t.ImportJson("{\"Key\": 1, \"KEY\": 2}"));
        Assert.Contains("same key", e.Message);
    }

    [Fact]
    public void Version_1_exports_still_import()
    {
        using var t = new SyncTable();
        t.ImportJson("{\"format\":\"syncpool-table/1\",\"caseSensitive\":false,\"entries\":[{\"key\":\"a\",\"type\":\"int\",\"value\":1},{\"key\":2,\"type\":\"bytes\",\"value\":\"AAEC\"}]}");
        Assert.Equal(1, t["a"]);
        Assert.Equal(new byte[] { 0, 1, 2 }, t[2]);
    }
}
