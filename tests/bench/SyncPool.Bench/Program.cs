using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using SyncPool.Bench;

// Usage: SyncPool.Bench <results-dir> [module-path]
//        SyncPool.Bench --memory <hashtable|synctable> <entries>   (child process)
if (args.Length >= 3 && args[0] == "--memory")
{
    Console.WriteLine(MemoryProbe.Measure(args[1], int.Parse(args[2], CultureInfo.InvariantCulture)));
    return 0;
}

string resultsDir = args.Length > 0 ? args[0] : Path.Combine(Directory.GetCurrentDirectory(), "results");
Directory.CreateDirectory(resultsDir);
var report = new Report();
report.Line($"# SyncPool benchmarks, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
report.Line();
report.Line($"- machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription.Trim()}, {RuntimeInformation.ProcessArchitecture}");
report.Line($"- .NET: {RuntimeInformation.FrameworkDescription}");
report.Line($"- PowerShell: {PowerShellVersion()}");
report.Line("- Every ratio compares two measurements taken in this same run. Absolute times are noisy here; ratios are the result.");
report.Line();

TableBench.Run(report);

string stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
string file = Path.Combine(resultsDir, $"engine-{stamp}.md");
File.WriteAllText(file, report.ToString());
File.WriteAllText(Path.Combine(resultsDir, "engine-latest.md"), report.ToString());
Console.WriteLine($"\nwritten: {file}");
return 0;

static string PowerShellVersion()
{
    try
    {
        var psi = new ProcessStartInfo("dotnet", "tool run pwsh -- -NoProfile -Command $PSVersionTable.PSVersion.ToString()")
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        if (p.ExitCode == 0 && output.Length > 0) return output;
    }
    catch (System.ComponentModel.Win32Exception) { }
    return "not installed on this machine (engine measured from .NET directly; no PowerShell-level numbers in this file)";
}

namespace SyncPool.Bench
{
    /// <summary>Collects the markdown report while echoing it to the console.</summary>
    sealed class Report
    {
        private readonly StringBuilder _text = new();
        public void Line(string text = "") { Console.WriteLine(text); _text.AppendLine(text); }
        public override string ToString() => _text.ToString();
    }

    static class Measure
    {
        /// <summary>Best of <paramref name="rounds"/> timings (least disturbed by other load).</summary>
        public static TimeSpan Best(int rounds, Action body)
        {
            var best = TimeSpan.MaxValue;
            for (int i = 0; i < rounds; i++)
            {
                var sw = Stopwatch.StartNew();
                body();
                sw.Stop();
                if (sw.Elapsed < best) best = sw.Elapsed;
            }
            return best;
        }

        /// <summary>Nanoseconds per call of <paramref name="body"/>(calls): min and median of <paramref name="rounds"/>, after a warm-up round.</summary>
        public static (double Min, double Median) PerCall(int rounds, int calls, Action<int> body)
        {
            body(calls / 10);
            var times = new List<double>();
            for (int i = 0; i < rounds; i++)
            {
                var sw = Stopwatch.StartNew();
                body(calls);
                sw.Stop();
                times.Add(sw.Elapsed.TotalNanoseconds / calls);
            }
            return (times.Min(), Median(times));
        }

        public static double Median(List<double> values)
        {
            values.Sort();
            return values.Count == 0 ? double.NaN : values[values.Count / 2];
        }

        public static void OnThreads(int threads, Action<int> body)
        {
            using var start = new Barrier(threads);
            var workers = Enumerable.Range(0, threads).Select(i => new Thread(() => { start.SignalAndWait(); body(i); })).ToArray();
            foreach (var w in workers) w.Start();
            foreach (var w in workers) w.Join();
        }
    }
}
