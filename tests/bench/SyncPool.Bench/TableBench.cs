using System.Collections;
using System.Diagnostics;
using System.Globalization;
using SyncPool.Table;

namespace SyncPool.Bench;

/// <summary>SyncTable against [hashtable]::Synchronized(@{}) — the tool the seeds use.</summary>
static class TableBench
{
    public static void Run(Report report)
    {
        report.Line("## SyncTable vs Hashtable.Synchronized (.NET calls, no PowerShell in the loop)");
        report.Line();
        report.Line("| measurement | SyncTable | Hashtable.Synchronized | ratio | issue target |");
        report.Line("|---|---|---|---|---|");
        GetSet(report);
        Contended(report);
        Memory(report);
        report.Line();
        PerCall(report);
    }

    private static void GetSet(Report report)
    {
        const int ops = 200_000;
        var keys = Enumerable.Range(0, 1000).Select(i => "host" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        using var table = new SyncTable();
        var hash = Hashtable.Synchronized(new Hashtable(StringComparer.OrdinalIgnoreCase));
        foreach (var k in keys) { table[k] = 0; hash[k] = 0; }
        var syncTime = Measure.Best(5, () => { for (int i = 0; i < ops; i++) { var k = keys[i % keys.Length]; table[k] = i; _ = table[k]; } });
        var hashTime = Measure.Best(5, () => { for (int i = 0; i < ops; i++) { var k = keys[i % keys.Length]; hash[k] = i; _ = hash[k]; } });
        double syncRate = 2 * ops / syncTime.TotalSeconds, hashRate = 2 * ops / hashTime.TotalSeconds;
        report.Line($"| get+set, 1 thread, 1,000 keys (ops/s) | {syncRate:N0} | {hashRate:N0} | {syncRate / hashRate:F3} | (PowerShell-level targets: table-latest.md) |");
    }

    private static void Contended(Report report)
    {
        const int threads = 4, each = 100_000;
        using var table = new SyncTable();
        var hash = Hashtable.Synchronized(new Hashtable { ["x"] = 0 });
        var naive = Hashtable.Synchronized(new Hashtable { ["x"] = 0 });
        var syncTime = Measure.Best(3, () =>
        {
            table["x"] = 0;
            Measure.OnThreads(threads, _ => { for (int i = 0; i < each; i++) table.Increment("x"); });
        });
        var lockTime = Measure.Best(3, () =>
        {
            hash["x"] = 0;
            Measure.OnThreads(threads, _ =>
            {
                for (int i = 0; i < each; i++) { lock (hash.SyncRoot) hash["x"] = (int)hash["x"]! + 1; }
            });
        });
        Measure.OnThreads(threads, _ => { for (int i = 0; i < each; i++) naive["x"] = (int)naive["x"]! + 1; });
        int total = threads * each;
        double syncRate = total / syncTime.TotalSeconds, lockRate = total / lockTime.TotalSeconds;
        report.Line($"| {threads} threads incrementing one key (ops/s; Hashtable with Monitor around ++) | {syncRate:N0} | {lockRate:N0} | {syncRate / lockRate:F3} | (PowerShell level: table-latest.md) |");
        report.Line($"| lost updates, {total:N0} increments (SyncTable.Increment vs naive $h.x++) | {total - (int)table["x"]!:N0} | {total - (int)naive["x"]!:N0} | | 0 vs >0 |");
    }

    private static void Memory(Report report)
    {
        const int entries = 1_000_000;
        long hash = MemoryProbe.InChild("hashtable", entries);
        long sync = MemoryProbe.InChild("synctable", entries);
        report.Line($"| memory for {entries:N0} entries (short string keys, int values; process RSS growth after GC, MB) | {sync / 1e6:F1} | {hash / 1e6:F1} | {(double)sync / hash:F3} | (PowerShell level: table-latest.md) |");
    }

    /// <summary>
    /// What one call costs on top of the native store: each SyncTable call
    /// against the same native call made with arguments prepared once, in
    /// the same process and run (nanoseconds per call, min and median of 5).
    /// </summary>
    private static unsafe void PerCall(Report report)
    {
        const int calls = 2_000_000;
        using var table = new SyncTable();
        IDictionary dictionary = table;
        object key = "c";
        table["c"] = 1_000_000; // outside the small-int box cache: the read allocates its box
        var native = (IntPtr)typeof(SyncTable).GetField("_native", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(table)!;
        byte* keyBytes = stackalloc byte[1];
        keyBytes[0] = (byte)'c';
        byte* buffer = stackalloc byte[ValueCodec.ReadBufferBytes];
        var nativeKey = new SyncPool.Native.KeyIn.Unmanaged { kind = SyncPool.Native.KeyKind.Text.Native, text = new SyncPool.Native.LentBytes.Unmanaged { ptr = (IntPtr)keyBytes, len = 1 } };
        var one = new SyncPool.Native.ValueIn.Unmanaged { kind = SyncPool.Native.ValueKind.Int.Native, number = 1 };
        var lent = ValueCodec.Lend(buffer);
        var read = default(SyncPool.Native.ValueRead.Unmanaged);
        IntPtr k = (IntPtr)(&nativeKey), v = (IntPtr)(&one), b = (IntPtr)(&lent), r = (IntPtr)(&read);

        report.Line("### One call: SyncTable against the bare native call");
        report.Line();
        report.Line($"Each line times {calls:N0} calls of one operation on an existing key (\"c\", value 1,000,000), min and median of 5 rounds; the native call is the same C ABI function with its arguments prepared once. The difference is what the C# side adds: encoding the key and value, the call, decoding the result.");
        report.Line();
        report.Line("| operation | SyncTable (ns, min / median) | native call alone (ns, min / median) | added by C# (ns, min) | target |");
        report.Line("|---|---|---|---|---|");
        void Line(string name, Action<int> managed, Action<int> bare)
        {
            var (m, mMedian) = Measure.PerCall(5, calls, managed);
            var (n, nMedian) = Measure.PerCall(5, calls, bare);
            double added = m - n;
            report.Line($"| {name} | {m:F1} / {mMedian:F1} | {n:F1} / {nMedian:F1} | {added:F1} | ≤ 100 ({(added <= 100 ? "met" : "NOT met")}) |");
        }
        Line("read `t[key]`", n => { for (int i = 0; i < n; i++) _ = table[key]; }, n => { for (int i = 0; i < n; i++) SyncPool.Native.Interop.table_core_read(native, k, b, r); });
        Line("read as PowerShell's `$t.key` does (`Contains`, then the indexer)", n => { for (int i = 0; i < n; i++) { if (dictionary.Contains(key)) _ = dictionary[key]; } }, n => { for (int i = 0; i < n; i++) SyncPool.Native.Interop.table_core_read(native, k, b, r); });
        Line("write `t[key] = 1`", n => { for (int i = 0; i < n; i++) table[key] = 1; }, n => { for (int i = 0; i < n; i++) SyncPool.Native.Interop.table_core_put(native, k, v); });
        Line("`t.Increment(key)`", n => { for (int i = 0; i < n; i++) table.Increment(key); }, n => { for (int i = 0; i < n; i++) SyncPool.Native.Interop.table_core_increment(native, k, v, r); });
        GC.KeepAlive(table);
        report.Line();
    }
}

/// <summary>Measures one structure's memory in a fresh child process, so the two do not share a heap.</summary>
static class MemoryProbe
{
    public static long InChild(string kind, int entries)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!, $"--memory {kind} {entries}") { RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
            psi.Arguments = $"{typeof(MemoryProbe).Assembly.Location} --memory {kind} {entries}";
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return long.Parse(output.Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>RSS growth (managed + native) from filling the structure, after a full GC.</summary>
    public static long Measure(string kind, int entries)
    {
        // Keys are made inside the fill loops: a hashtable keeps its key strings
        // (they are part of its cost), a SyncTable copies them into native memory.
        using var warm = new SyncTable(); // load the native library before the baseline
        warm["w"] = 1;
        Settle();
        long before = Rss();
        object keep;
        if (kind == "hashtable")
        {
            var h = Hashtable.Synchronized(new Hashtable(StringComparer.OrdinalIgnoreCase));
            for (int i = 0; i < entries; i++) h["k" + i.ToString(CultureInfo.InvariantCulture)] = i;
            keep = h;
        }
        else
        {
            var t = new SyncTable();
            for (int i = 0; i < entries; i++) t["k" + i.ToString(CultureInfo.InvariantCulture)] = i;
            keep = t;
        }
        Settle();
        long after = Rss();
        GC.KeepAlive(keep);
        return after - before;
    }

    private static void Settle()
    {
        for (int i = 0; i < 3; i++) { GC.Collect(); GC.WaitForPendingFinalizers(); }
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    private static long Rss()
    {
        // /proc/self/statm: size resident ... in pages.
        var fields = File.ReadAllText("/proc/self/statm").Split(' ');
        return long.Parse(fields[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
    }
}
