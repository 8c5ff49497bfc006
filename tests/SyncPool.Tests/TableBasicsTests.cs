using System;
using System.Collections;
using System.Linq;
using SyncPool.Table;
using Xunit;

namespace SyncPool.Tests;

/// <summary>Values and keys round-trip C# → Rust → C#; hashtable conventions hold.</summary>
public class TableBasicsTests
{
    [Theory]
    [InlineData("Größe")]
    [InlineData("東京")]
    [InlineData("plain")]
    [InlineData("")]
    public void Text_keys_and_values_round_trip(string text)
    {
        using var t = new SyncTable();
        t[text] = text + "!";
        Assert.Equal(text + "!", t[text]);
        Assert.Equal(text, Assert.Single(t.Keys.Cast<object>()));
    }

    [Fact]
    public void Every_native_type_round_trips_with_its_type()
    {
        using var t = new SyncTable();
        var now = new DateTime(2026, 11, 22, 1, 2, 3, DateTimeKind.Utc).AddTicks(4567);
        t["int"] = 42;
        t["long"] = 5_000_000_000L;
        t["double"] = 0.1;
        t["bool"] = true;
        t["null"] = null;
        t["bytes"] = new byte[] { 0, 1, 255 };
        t["date"] = now;
        t["local"] = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Local);
        Assert.IsType<int>(t["int"]);
        Assert.Equal(42, t["int"]);
        Assert.Equal(5_000_000_000L, t["long"]);
        Assert.Equal(0.1, t["double"]);
        Assert.Equal(true, t["bool"]);
        Assert.Null(t["null"]);
        Assert.True(t.ContainsKey("null"));
        Assert.Equal(new byte[] { 0, 1, 255 }, t["bytes"]);
        Assert.Equal(now, t["date"]);
        Assert.Equal(DateTimeKind.Utc, ((DateTime)t["date"]!).Kind);
        Assert.Equal(DateTimeKind.Local, ((DateTime)t["local"]!).Kind);
        Assert.Equal(8, t.Count);
    }

    [Fact]
    public void Keys_are_case_insensitive_like_OrdinalIgnoreCase()
    {
        using var t = new SyncTable();
        t["One"] = 1;
        t["ONE"] = 2;
        Assert.Equal(1, t.Count);
        Assert.Equal(2, t["one"]);
        Assert.Equal("One", t.Keys.Cast<object>().Single()); // first spelling kept, like a hashtable
        t["GRÖSSE"] = "a";
        Assert.Equal("a", t["grösse"]);
        t["ß"] = "eszett";
        Assert.Null(t["SS"]); // OrdinalIgnoreCase: 'ß' and 'SS' differ
        Assert.Equal(StringComparer.OrdinalIgnoreCase.Equals("ß", "SS"), t.ContainsKey("SS"));
    }

    [Fact]
    public void CaseSensitive_tables_keep_spellings_apart()
    {
        using var t = new SyncTable(caseSensitive: true);
        t["a"] = 1;
        t["A"] = 2;
        Assert.Equal(2, t.Count);
        Assert.Equal(1, t["a"]);
    }

    [Fact]
    public void Integer_and_string_keys_are_different_keys()
    {
        using var t = new SyncTable();
        t[1] = "int";
        t["1"] = "text";
        t[2L] = "long two";
        Assert.Equal(3, t.Count);
        Assert.Equal("int", t[1]);
        Assert.Equal("text", t["1"]);
        Assert.Equal("long two", t[2]); // all integer types are one key space, as 64-bit numbers
        Assert.Contains(1, t.Keys.Cast<object>());
    }

    [Fact]
    public void Bad_keys_are_clear_errors()
    {
        using var t = new SyncTable();
        var nullKey = Assert.Throws<ArgumentNullException>(() => t.Set(null!, 1));
        Assert.Contains("cannot be null", nullKey.Message);
        var typed = Assert.Throws<ArgumentException>(() => t.Set(new Version(1, 0), 1));
        Assert.Contains("System.Version", typed.Message);
        var surrogate = Assert.Throws<ArgumentException>(() => t.Set("bad\uD800", 1));
        Assert.Contains("surrogate", surrogate.Message);
        Assert.Equal(0, t.Count);
    }

    [Fact]
    public void Hashtable_surface_works()
    {
        using var t = new SyncTable();
        t.Add("a", 1);
        Assert.Throws<ArgumentException>(() => t.Add("A", 2));
        t["b"] = 2;
        Assert.True(t.Contains("B"));
        Assert.Equal(new object[] { 1, 2 }, t.Values.Cast<object>().OrderBy(v => (int)v));
        var seen = new Hashtable();
        foreach (DictionaryEntry e in t) seen[e.Key] = e.Value;
        Assert.Equal(2, seen.Count);
        t.Remove("a");
        Assert.False(t.ContainsKey("a"));
        Assert.True(t.TryRemove("b", out var removed));
        Assert.Equal(2, removed);
        Assert.False(t.TryRemove("b", out _));
        t["x"] = 1;
        t.Clear();
        Assert.Equal(0, t.Count);
        Assert.Null(t["missing"]);
    }

    [Fact]
    public void Snapshot_is_a_plain_hashtable_with_the_same_case_rule()
    {
        using var t = new SyncTable();
        t["Key"] = 1;
        t[7] = "seven";
        var copy = t.Snapshot();
        Assert.Equal(1, copy["KEY"]);
        Assert.Equal("seven", copy[7]);
        copy["new"] = 1;
        Assert.False(t.ContainsKey("new"));
    }

    [Fact]
    public void Large_values_work_without_stack_buffers()
    {
        using var t = new SyncTable();
        var big = new string('x', 100 * 1024 * 1024); // 100 MB of text
        t["big"] = big;
        Assert.Equal(big.Length, ((string)t["big"]!).Length);
        var bytes = new byte[16 * 1024 * 1024];
        new Random(1).NextBytes(bytes);
        t["bytes"] = bytes;
        Assert.Equal(bytes, t["bytes"]);
    }
}
