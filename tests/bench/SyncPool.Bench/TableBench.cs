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
        report.Line($"| get+set, 1 thread (ops/s) | {syncRate:N0} | {hashRate:N0} | {syncRate / hashRate:F3} | ≥ 0.7 measured from PowerShell (not measurable here) |");
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
        report.Line($"| {threads} threads incrementing one key (ops/s; Hashtable with Monitor around ++) | {syncRate:N0} | {lockRate:N0} | {syncRate / lockRate:F3} | ≥ 1.5 |");
        report.Line($"| lost updates, {total:N0} increments (SyncTable.Increment vs naive $h.x++) | {total - (int)table["x"]!:N0} | {total - (int)naive["x"]!:N0} | | 0 vs >0 |");
    }

    private static void Memory(Report report)
    {
        const int entries = 1_000_000;
        long hash = MemoryProbe.InChild("hashtable", entries);
        long sync = MemoryProbe.InChild("synctable", entries);
        report.Line($"| memory for {entries:N0} entries (short string keys, int values; process RSS growth after GC, MB) | {sync / 1e6:F1} | {hash / 1e6:F1} | {(double)sync / hash:F3} | ≤ 1.0 |");
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
