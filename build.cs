#:property PublishAot=false
#:property Nullable=enable
// SyncPool's build: every build, test, bench and package step.
// Run through ./build.ps1 (PowerShell) or directly: dotnet run --file build.cs -- <Task>
// Tasks: Build (default), Test, Bench, Demo, Install, Clean.
// Written in C# so the same steps run on any machine with the .NET SDK,
// including CI machines where PowerShell itself is not installed.
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

var root = FindRoot();
var task = args.Length > 0 ? args[0] : "Build";
var b = new Builder(root);
try
{
    int exit = task.ToLowerInvariant() switch
    {
        "build" => b.Build(),
        "test" => b.Test(),
        "bench" => b.Bench(),
        "demo" => b.Demo(),
        "install" => b.Install(),
        "clean" => b.Clean(),
        _ => throw new BuildError($"Unknown task '{task}'. Tasks: Build, Test, Bench, Demo, Install, Clean."),
    };
    return exit;
}
catch (BuildError e)
{
    Console.Error.WriteLine($"build: {e.Message}");
    return 2;
}

static string FindRoot()
{
    var dir = Directory.GetCurrentDirectory();
    while (dir is not null && !File.Exists(Path.Combine(dir, "build.cs"))) dir = Path.GetDirectoryName(dir);
    return dir ?? throw new BuildError("Run this from inside the SyncPool repository.");
}

sealed class BuildError(string message) : Exception(message);

/// <summary>
/// The Redis servers the tests and benchmarks talk to, on 127.0.0.1 only:
/// two private redis-server instances (one without a password, one with
/// --requirepass), each with its own temp dir and no persistence, stopped
/// when disposed. Their addresses reach the suites through environment
/// variables: SYNCPOOL_REDIS_URI, SYNCPOOL_REDIS_AUTH_URI and
/// SYNCPOOL_REDIS_PASSWORD. When SYNCPOOL_REDIS_URI is set already, those
/// servers are used and nothing is started. A missing redis-server is a
/// failure (<see cref="Problem"/>), never a skip.
/// </summary>
sealed class TestRedis : IDisposable
{
    readonly List<Process> _servers = new();
    readonly List<string> _dirs = new();

    public string? Problem { get; private set; }

    public static TestRedis Start(string root)
    {
        var redis = new TestRedis();
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("SYNCPOOL_REDIS_URI")))
        {
            Console.WriteLine($"Redis: using the servers given by SYNCPOOL_REDIS_URI / SYNCPOOL_REDIS_AUTH_URI.");
            return redis;
        }
        var server = FindRedisServer();
        if (server is null)
        {
            redis.Problem = "redis-server was not found on PATH: install it (Debian: apt-get install redis-server) so the Redis suites can run";
            Console.WriteLine($"FAILED: {redis.Problem}.");
            return redis;
        }
        try
        {
            var password = "sp-" + Guid.NewGuid().ToString("N");
            int open = redis.Launch(server, null), auth = redis.Launch(server, password);
            Environment.SetEnvironmentVariable("SYNCPOOL_REDIS_URI", $"redis://127.0.0.1:{open}/0");
            Environment.SetEnvironmentVariable("SYNCPOOL_REDIS_AUTH_URI", $"redis://127.0.0.1:{auth}/0");
            Environment.SetEnvironmentVariable("SYNCPOOL_REDIS_PASSWORD", password);
            Console.WriteLine($"Redis: private servers on 127.0.0.1:{open} and 127.0.0.1:{auth} (with a password).");
        }
        catch (Exception e)
        {
            redis.Problem = $"a private redis-server could not be started: {e.Message}";
            Console.WriteLine($"FAILED: {redis.Problem}.");
        }
        return redis;
    }

    static string? FindRedisServer()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Append("/usr/bin").Append("/usr/sbin"))
        {
            var candidate = Path.Combine(dir, "redis-server");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    int Launch(string server, string? password)
    {
        int port = FreePort();
        var dir = Path.Combine(Path.GetTempPath(), $"syncpool-redis-{Environment.ProcessId}-{port}");
        Directory.CreateDirectory(dir);
        _dirs.Add(dir);
        var psi = new ProcessStartInfo(server) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        foreach (var a in new[] { "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no" })
            psi.ArgumentList.Add(a);
        if (password is not null) { psi.ArgumentList.Add("--requirepass"); psi.ArgumentList.Add(password); }
        var process = Process.Start(psi) ?? throw new InvalidOperationException("redis-server did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _servers.Add(process);
        var started = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                probe.Connect(System.Net.IPAddress.Loopback, port);
                return port;
            }
            catch (System.Net.Sockets.SocketException) when (started.Elapsed < TimeSpan.FromSeconds(15) && !process.HasExited)
            {
                Thread.Sleep(50);
            }
            catch (System.Net.Sockets.SocketException)
            {
                throw new InvalidOperationException($"redis-server on port {port} did not accept connections (exited: {process.HasExited})");
            }
        }
    }

    public void Dispose()
    {
        foreach (var p in _servers)
        {
            try { if (!p.HasExited) { p.Kill(); p.WaitForExit(5000); } } catch (InvalidOperationException) { }
            p.Dispose();
        }
        foreach (var d in _dirs)
        {
            try { Directory.Delete(d, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}

/// <summary>
/// Compiles module/help/*.json (one file per cmdlet) into the MAML file
/// PowerShell's Get-Help reads for compiled cmdlets. platyPS would do this,
/// but it is only on the Gallery. A file holds: name, synopsis, description,
/// parameters (name, type, description; optional required, position,
/// pipeline, wildcards, aliases, default, and sets: the parameter sets it is
/// in, every set when left out), inputs and outputs (type, description),
/// links (related cmdlets and about topics) and examples (title, code,
/// remarks). The syntax has one line per parameter set, in the order the sets
/// first appear, parameters in PowerShell's own order: positional ones by
/// position, then required ones, then the rest.
/// </summary>
static class HelpWriter
{
    const string MamlNs = "http://schemas.microsoft.com/maml/2004/10";
    const string CommandNs = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    const string DevNs = "http://schemas.microsoft.com/maml/dev/2004/10";

    public static string Build(string folder)
    {
        System.Xml.Linq.XNamespace maml = MamlNs, command = CommandNs, dev = DevNs;
        var root = new System.Xml.Linq.XElement("helpItems", new System.Xml.Linq.XAttribute("schema", "maml"),
            new System.Xml.Linq.XAttribute(System.Xml.Linq.XNamespace.Xmlns + "maml", MamlNs),
            new System.Xml.Linq.XAttribute(System.Xml.Linq.XNamespace.Xmlns + "command", CommandNs),
            new System.Xml.Linq.XAttribute(System.Xml.Linq.XNamespace.Xmlns + "dev", DevNs));
        foreach (var file in Directory.GetFiles(folder, "*.json").Order())
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
            var h = doc.RootElement;
            string name = h.GetProperty("name").GetString()!;
            var (verb, noun) = (name.Split('-')[0], name.Split('-', 2)[1]);
            System.Xml.Linq.XElement Para(string text) => new(maml + "description",
                text.Split("\n\n").Select(p => new System.Xml.Linq.XElement(maml + "para", p.Trim())));
            var parameters = Items(h, "parameters");
            // One syntax line per parameter set; a parameter without "sets" is in all of them.
            var sets = parameters.SelectMany(p => Strings(p, "sets")).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            if (sets.Count == 0) sets.Add("");
            bool InSet(System.Text.Json.JsonElement p, string set) =>
                !p.TryGetProperty("sets", out _) || Strings(p, "sets").Contains(set, StringComparer.OrdinalIgnoreCase);
            int? Position(System.Text.Json.JsonElement p) => p.TryGetProperty("position", out var pos) && int.TryParse(pos.ToString(), out int n) ? n : null;
            // "required": true/false, or the list of sets the parameter is mandatory in.
            string Required(System.Text.Json.JsonElement p, string? set) =>
                p.TryGetProperty("required", out var r) && r.ValueKind == System.Text.Json.JsonValueKind.Array
                    ? (set is null ? "false" : r.EnumerateArray().Any(x => string.Equals(x.GetString(), set, StringComparison.OrdinalIgnoreCase)) ? "true" : "false")
                    : Flag(p, "required");
            System.Xml.Linq.XElement Parameter(System.Text.Json.JsonElement p, bool inSyntax, string? set = null)
            {
                string type = p.GetProperty("type").GetString()!;
                bool isSwitch = type == "SwitchParameter";
                var aliases = Strings(p, "aliases").ToList();
                return new(command + "parameter",
                    new System.Xml.Linq.XAttribute("required", Required(p, inSyntax ? set : null)),
                    new System.Xml.Linq.XAttribute("variableLength", type.EndsWith("[]") ? "true" : "false"),
                    new System.Xml.Linq.XAttribute("globbing", Flag(p, "wildcards")),
                    new System.Xml.Linq.XAttribute("pipelineInput", Flag(p, "pipeline")),
                    new System.Xml.Linq.XAttribute("position", Position(p)?.ToString() ?? "named"),
                    new System.Xml.Linq.XAttribute("aliases", aliases.Count == 0 ? "none" : string.Join(", ", aliases)),
                    new System.Xml.Linq.XElement(maml + "name", p.GetProperty("name").GetString()),
                    inSyntax ? null : Para(p.GetProperty("description").GetString()!),
                    // A switch is shown as [-Name] in the syntax, as [-Name] <SwitchParameter> under PARAMETERS.
                    inSyntax && isSwitch ? null : new System.Xml.Linq.XElement(command + "parameterValue",
                        new System.Xml.Linq.XAttribute("required", isSwitch ? "false" : "true"),
                        new System.Xml.Linq.XAttribute("variableLength", "false"), type),
                    new System.Xml.Linq.XElement(dev + "type", new System.Xml.Linq.XElement(maml + "name", type)),
                    inSyntax || !p.TryGetProperty("default", out var d) ? null : new System.Xml.Linq.XElement(dev + "defaultValue", d.GetString()));
            }
            System.Xml.Linq.XElement SyntaxItem(string set) => new(command + "syntaxItem",
                new System.Xml.Linq.XElement(maml + "name", name),
                parameters.Where(p => InSet(p, set))
                    .OrderBy(p => Position(p) is not null ? 0 : Required(p, set) == "true" ? 1 : 2)
                    .ThenBy(p => Position(p) ?? 0)
                    .Select(p => Parameter(p, inSyntax: true, set)));
            System.Xml.Linq.XElement Types(string property, string list, string item) => new(command + list,
                Items(h, property).Select(t => new System.Xml.Linq.XElement(command + item,
                    new System.Xml.Linq.XElement(dev + "type", new System.Xml.Linq.XElement(maml + "name", t.GetProperty("type").GetString())),
                    Para(t.GetProperty("description").GetString()!))));
            var examples = Items(h, "examples");
            root.Add(new System.Xml.Linq.XElement(command + "command",
                new System.Xml.Linq.XElement(command + "details",
                    new System.Xml.Linq.XElement(command + "name", name),
                    new System.Xml.Linq.XElement(maml + "description", new System.Xml.Linq.XElement(maml + "para", h.GetProperty("synopsis").GetString())),
                    new System.Xml.Linq.XElement(command + "verb", verb),
                    new System.Xml.Linq.XElement(command + "noun", noun)),
                Para(h.GetProperty("description").GetString()!),
                new System.Xml.Linq.XElement(command + "syntax", sets.Select(SyntaxItem)),
                new System.Xml.Linq.XElement(command + "parameters", parameters.Select(p => Parameter(p, inSyntax: false))),
                Types("inputs", "inputTypes", "inputType"),
                Types("outputs", "returnValues", "returnValue"),
                new System.Xml.Linq.XElement(command + "examples", examples.Select((e, i) => new System.Xml.Linq.XElement(command + "example",
                    new System.Xml.Linq.XElement(maml + "title", $"---------- Example {i + 1}: {e.GetProperty("title").GetString()} ----------"),
                    new System.Xml.Linq.XElement(dev + "code", e.GetProperty("code").GetString()),
                    new System.Xml.Linq.XElement(dev + "remarks", new System.Xml.Linq.XElement(maml + "para", e.TryGetProperty("remarks", out var r) ? r.GetString() : ""))))),
                new System.Xml.Linq.XElement(maml + "relatedLinks", Strings(h, "links").Select(link => new System.Xml.Linq.XElement(maml + "navigationLink",
                    new System.Xml.Linq.XElement(maml + "linkText", link),
                    new System.Xml.Linq.XElement(maml + "uri"))))));
        }
        return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" + root;
    }

    static List<System.Text.Json.JsonElement> Items(System.Text.Json.JsonElement e, string name) =>
        e.TryGetProperty(name, out var a) ? a.EnumerateArray().ToList() : new();

    static IEnumerable<string> Strings(System.Text.Json.JsonElement e, string name) => Items(e, name).Select(s => s.GetString()!);

    static string Flag(System.Text.Json.JsonElement p, string name) =>
        p.TryGetProperty(name, out var v) ? (v.ValueKind == System.Text.Json.JsonValueKind.String ? v.GetString()! : v.GetBoolean() ? "true" : "false") : "false";
}

/// <summary>Counts from one test suite.</summary>
sealed record SuiteResult(string Name, int Passed, int Failed, int Skipped, string? Note = null);

sealed class Builder(string root)
{
    string Out => Path.Combine(root, "out");
    string Stage => Path.Combine(Out, "SyncPool");
    string Bindings => Path.Combine(root, "bindings");
    static string Rid => $"{(OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux")}-{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}";
    static string NativeFile => OperatingSystem.IsWindows() ? "syncpool.dll" : OperatingSystem.IsMacOS() ? "libsyncpool.dylib" : "libsyncpool.so";
    string NativeBuilt => Path.Combine(root, "target", "release", NativeFile);
    string BindgenExe => Path.Combine(root, "target", "release", OperatingSystem.IsWindows() ? "syncpool-bindgen.exe" : "syncpool-bindgen");

    // ---- tasks -------------------------------------------------------------------

    public int Build()
    {
        Require("cargo", "--version", "Rust's cargo was not found on PATH. Install Rust 1.93 or newer (https://rustup.rs), then run the build again.");
        Require("rustc", "-vV", "rustc was not found or has no host target. Install Rust 1.93 or newer (https://rustup.rs).");
        Step("Rust core (cargo build --release)");
        Run("cargo", "build --release --workspace");
        Step("C# bindings (interoptopus)");
        Run(BindgenExe, Quote(Bindings));
        Step("C# module (dotnet build)");
        Run("dotnet", $"build {Quote(Path.Combine(root, "module", "SyncPool.csproj"))} -c Release -nologo -v q -o {Quote(Path.Combine(Out, "module-bin"))}");
        Step($"Staging {Stage}");
        StageModule();
        Console.WriteLine($"Module ready: Import-Module {Stage}");
        return 0;
    }

    public int Test()
    {
        var results = new List<SuiteResult>();
        Require("cargo", "--version", "Rust's cargo was not found on PATH. Install Rust 1.93 or newer (https://rustup.rs), then run the build again.");
        Step("Building the bindings generator");
        Run("cargo", "build --release --workspace");
        results.Add(BindingsDrift());     // before Build regenerates bindings/
        results.Add(HelpCoverage());
        Build();
        // The Redis suites need servers; started here unless SYNCPOOL_REDIS_URI names them.
        using var redis = TestRedis.Start(root);
        if (redis.Problem is { } problem) results.Add(new SuiteResult("redis servers", 0, 1, 0, problem));
        results.Add(CargoTests());
        results.Add(DotnetTests());
        results.Add(PesterTests());
        Console.WriteLine();
        Console.WriteLine("Suites:");
        foreach (var r in results)
            Console.WriteLine($"  {r.Name,-16} {r.Passed,5} passed {r.Failed,4} failed {r.Skipped,4} skipped{(r.Note is null ? "" : "  (" + r.Note + ")")}");
        int passed = results.Sum(r => r.Passed), failed = results.Sum(r => r.Failed), skipped = results.Sum(r => r.Skipped);
        // Nothing may be skipped silently: a skip is listed and fails the run.
        Console.WriteLine(skipped == 0 ? $"{passed} passed, {failed} failed" : $"{passed} passed, {failed} failed, {skipped} skipped");
        return failed == 0 && skipped == 0 ? 0 : 1;
    }

    public int Bench()
    {
        Build();
        var resultsDir = Path.Combine(root, "tests", "bench", "results");
        Directory.CreateDirectory(resultsDir);
        Step("SyncTable vs Hashtable.Synchronized (.NET, same process)");
        Run("dotnet", $"run -c Release --project {Quote(Path.Combine(root, "tests", "bench", "SyncPool.Bench", "SyncPool.Bench.csproj"))} -- {Quote(resultsDir)} {Quote(Stage)}");
        Step("Rust store alone (criterion)");
        var (_, criterion) = Run("cargo", "bench -p syncpool --bench table -- --noplot");
        // Keep the benchmark names and their time/throughput lines.
        var summary = criterion.Split('\n').Select(l => l.TrimEnd())
            .Where(l => Regex.IsMatch(l, @"^\S+/\S+") || l.Contains("time:") || l.Contains("thrpt:"));
        File.WriteAllText(Path.Combine(resultsDir, "rust-store-latest.md"),
            $"# Rust store alone (criterion), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores\n\n```\n{string.Join("\n", summary)}\n```\n");
        var pwsh = RequirePowerShell();
        // redis.bench.ps1 measures against a private server (see TestRedis).
        using var redis = TestRedis.Start(root);
        {
            Step("PowerShell-level benchmarks");
            var failedScripts = new List<string>();
            foreach (var script in Directory.GetFiles(Path.Combine(root, "tests", "bench"), "*.bench.ps1").Order())
            {
                // Each script runs even if an earlier one reported a correctness failure.
                var (code, _) = Run(pwsh.File, $"{pwsh.Prefix}-NoProfile -File {Quote(script)} -ModulePath {Quote(Stage)} -ResultsDir {Quote(resultsDir)}", check: false);
                if (code != 0) failedScripts.Add(Path.GetFileName(script));
            }
            if (failedScripts.Count > 0)
            {
                Console.WriteLine($"Benchmarks that reported failures: {string.Join(", ", failedScripts)}");
                return 1;
            }
        }
        return 0;
    }

    public int Demo()
    {
        Build();
        var pwsh = RequirePowerShell();
        Run(pwsh.File, $"{pwsh.Prefix}-NoProfile -NonInteractive -Command \"Import-Module '{Stage}'; & '{Path.Combine(root, "examples", "demo.ps1")}'\"", workDir: Path.GetTempPath());
        return 0;
    }

    public int Install()
    {
        Build();
        string modules = OperatingSystem.IsWindows()
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.MyDocuments), "PowerShell", "Modules")
            : Path.Combine(Environment.GetEnvironmentVariable("XDG_DATA_HOME") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share"), "powershell", "Modules");
        var target = Path.Combine(modules, "SyncPool");
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
        CopyTree(Stage, target);
        Console.WriteLine($"Installed to {target}. 'Import-Module SyncPool' now works in new PowerShell sessions.");
        return 0;
    }

    public int Clean()
    {
        if (Which("cargo") is not null) Run("cargo", "clean");
        foreach (var dir in new[] { Out, Path.Combine(root, ".tools") }
                     .Concat(Directory.GetDirectories(root, "bin", SearchOption.AllDirectories))
                     .Concat(Directory.GetDirectories(root, "obj", SearchOption.AllDirectories)))
        {
            if (dir.Contains($"{Path.DirectorySeparatorChar}target{Path.DirectorySeparatorChar}")) continue;
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        Console.WriteLine("Clean.");
        return 0;
    }

    // ---- suites --------------------------------------------------------------------

    SuiteResult BindingsDrift()
    {
        Step("Bindings drift check (regenerate and compare with bindings/)");
        var fresh = Path.Combine(Path.GetTempPath(), "syncpool-bindings-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(fresh);
        try
        {
            Run(BindgenExe, Quote(fresh));
            var drifted = new List<string>();
            foreach (var file in Directory.GetFiles(fresh, "*.cs"))
            {
                var committed = Path.Combine(Bindings, Path.GetFileName(file));
                if (!File.Exists(committed) || !File.ReadAllBytes(committed).AsSpan().SequenceEqual(File.ReadAllBytes(file)))
                    drifted.Add(Path.GetFileName(file));
            }
            if (drifted.Count == 0)
            {
                Console.WriteLine("bindings/ matches the Rust inventory.");
                return new SuiteResult("bindings drift", 1, 0, 0);
            }
            Console.WriteLine($"FAILED: bindings/ differs from what the Rust code generates: {string.Join(", ", drifted)}. Run the Build task and commit bindings/.");
            return new SuiteResult("bindings drift", 0, 1, 0);
        }
        finally
        {
            Directory.Delete(fresh, recursive: true);
        }
    }

    /// <summary>Every cmdlet has module/help/Verb-Noun.json documenting each of its parameters.</summary>
    SuiteResult HelpCoverage()
    {
        Step("Help coverage (module/help documents every cmdlet and parameter)");
        int passed = 0, failed = 0;
        foreach (var file in Directory.GetFiles(Path.Combine(root, "module", "Cmdlets"), "*Command.cs").Order())
        {
            var source = File.ReadAllText(file);
            var cmdlet = Regex.Match(source, @"\[Cmdlet\(Verbs\w+\.(\w+),\s*""(\w+)""");
            if (!cmdlet.Success) continue;
            string name = $"{cmdlet.Groups[1].Value}-{cmdlet.Groups[2].Value}";
            // Parameters declared by the cmdlet and by a SyncPool base class it derives from.
            var declaring = new List<string> { source };
            var baseClass = Regex.Match(source, @"class\s+\w+\s*:\s*(\w+)");
            var baseFile = Path.Combine(root, "module", "Cmdlets", baseClass.Groups[1].Value + ".cs");
            if (baseClass.Success && File.Exists(baseFile)) declaring.Add(File.ReadAllText(baseFile));
            var parameters = declaring
                .SelectMany(text => Regex.Matches(text, @"\[Parameter[^\]]*\][^{]*?public\s+[\w\[\]<>?,. ]+?\s+(\w+)\s*\{").Select(m => m.Groups[1].Value))
                .Distinct();
            var helpFile = Path.Combine(root, "module", "help", name + ".json");
            var problems = new List<string>();
            if (!File.Exists(helpFile)) problems.Add("no help file");
            else
            {
                using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(helpFile));
                var documented = doc.RootElement.TryGetProperty("parameters", out var ps)
                    ? ps.EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToHashSet(StringComparer.OrdinalIgnoreCase)
                    : new HashSet<string?>();
                problems.AddRange(parameters.Where(p => !documented.Contains(p)).Select(p => $"-{p} undocumented"));
                if (!doc.RootElement.TryGetProperty("examples", out var ex) || ex.GetArrayLength() == 0) problems.Add("no example");
            }
            if (problems.Count == 0) passed++;
            else
            {
                failed++;
                Console.WriteLine($"FAILED: {name}: {string.Join(", ", problems)}");
            }
        }
        Console.WriteLine($"{passed} cmdlets fully documented.");
        return new SuiteResult("help coverage", passed, failed, 0);
    }

    /// <summary>Time limits for whole suites: a hang becomes a failure, never a stalled CI run.</summary>
    static readonly TimeSpan CargoLimit = TimeSpan.FromMinutes(25), DotnetLimit = TimeSpan.FromMinutes(15), PesterFileLimit = TimeSpan.FromMinutes(12);

    string Results => Path.Combine(Out, "test-results");

    SuiteResult CargoTests()
    {
        Step("Rust tests (cargo test)");
        // cargo has no result file on stable: its own "test result:" lines are the record.
        var (code, output) = Run("cargo", "test --workspace --release", check: false, timeout: CargoLimit);
        int passed = 0, failed = 0, skipped = 0;
        foreach (Match m in Regex.Matches(output, @"test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored"))
        {
            passed += int.Parse(m.Groups[1].Value);
            failed += int.Parse(m.Groups[2].Value);
            skipped += int.Parse(m.Groups[3].Value);
        }
        if (code == TimedOut) return new SuiteResult("cargo test", passed, failed + 1, skipped, $"killed after {CargoLimit.TotalMinutes} min");
        if (code != 0 && failed == 0) failed = 1; // build failure or crash: count it
        return new SuiteResult("cargo test", passed, failed, skipped);
    }

    SuiteResult DotnetTests()
    {
        Step("C# tests (dotnet test: module engine against the real native library)");
        var project = Path.Combine(root, "tests", "SyncPool.Tests", "SyncPool.Tests.csproj");
        var trx = Path.Combine(Results, "dotnet.trx");
        if (File.Exists(trx)) File.Delete(trx);
        // --blame-hang-timeout names a hung test and kills the host; the outer limit backs it up.
        var (code, _) = Run("dotnet",
            $"test {Quote(project)} -c Release -nologo -p:NativeLibraryPath={Quote(NativeBuilt)} -p:NativeRid={Rid} " +
            $"--logger \"trx;LogFileName=dotnet.trx\" --results-directory {Quote(Results)} --blame-hang-timeout 5m",
            check: false, timeout: DotnetLimit);
        if (!File.Exists(trx))
            return new SuiteResult("dotnet test", 0, 1, 0, code == TimedOut ? $"killed after {DotnetLimit.TotalMinutes} min" : "no result file: the run failed");
        var counters = System.Xml.Linq.XDocument.Load(trx).Descendants().First(e => e.Name.LocalName == "Counters");
        int Count(string name) => int.Parse(counters.Attribute(name)?.Value ?? "0");
        int failed = Count("failed") + Count("error") + Count("timeout") + Count("aborted");
        int skipped = Count("notExecuted") + Count("inconclusive") + Count("notRunnable");
        if (code != 0 && failed == 0) failed = 1;
        return new SuiteResult("dotnet test", Count("passed"), failed, skipped);
    }

    /// <summary>
    /// Each tests/pester/*.Tests.ps1 file in its own fresh pwsh, under a time
    /// limit; counts come from Pester's NUnit XML. A suite that has to be
    /// killed counts as one failure naming the test it hung in (each suite's
    /// BeforeEach records it), plus whatever its console showed as done.
    /// </summary>
    SuiteResult PesterTests()
    {
        Step("PowerShell tests (Pester, one fresh pwsh per suite)");
        var pwsh = FindPowerShell();
        var pester = FindPester();
        if (pwsh is null || pester is null)
        {
            var missing = pwsh is null ? "PowerShell 7 (run 'dotnet tool restore')" : $"Pester {PesterVersion} (NuGet restore failed)";
            Console.WriteLine($"FAILED: {missing} is not available, so the Pester suites cannot run.");
            return new SuiteResult("pester", 0, 1, 0, $"not run: {missing} unavailable");
        }
        Directory.CreateDirectory(Results);
        int passed = 0, failed = 0, skipped = 0;
        var notes = new List<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(root, "tests", "pester"), "*.Tests.ps1").Order())
        {
            string suite = Path.GetFileNameWithoutExtension(file);
            var xml = Path.Combine(Results, $"pester-{suite}.xml");
            var progress = Path.Combine(Results, $"pester-{suite}.current");
            foreach (var stale in new[] { xml, progress }) if (File.Exists(stale)) File.Delete(stale);
            var (code, output) = Run(pwsh.Value.File,
                $"{pwsh.Value.Prefix}-NoProfile -NonInteractive -File {Quote(Path.Combine(root, "tests", "pester", "Invoke-Tests.ps1"))} " +
                $"-ModulePath {Quote(Stage)} -PesterPath {Quote(pester)} -TestPath {Quote(file)} -ResultPath {Quote(xml)}",
                check: false, workDir: Path.GetTempPath(), timeout: PesterFileLimit,
                environment: new() { ["SYNCPOOL_TEST_PROGRESS"] = progress });
            if (code == TimedOut)
            {
                string hung = File.Exists(progress) ? File.ReadAllText(progress) : "before its first test";
                var plain = Regex.Replace(output, @"\x1b\[[0-9;]*m", "");
                int done = Regex.Matches(plain, @"(?m)^\s*\[\+\] ").Count, bad = Regex.Matches(plain, @"(?m)^\s*\[-\] ").Count;
                Console.WriteLine($"FAILED: {suite} was killed after {PesterFileLimit.TotalMinutes} min; it hung in: {hung}");
                passed += done;
                failed += bad + 1;
                notes.Add($"{suite} hung in '{hung}'");
                continue;
            }
            if (!File.Exists(xml))
            {
                failed++;
                notes.Add($"{suite}: no result file (exit {code})");
                continue;
            }
            var cases = System.Xml.Linq.XDocument.Load(xml).Descendants().Where(e => e.Name.LocalName == "test-case").ToList();
            int p = cases.Count(c => (string?)c.Attribute("result") == "Success");
            int f = cases.Count(c => (string?)c.Attribute("result") is "Failure" or "Error");
            int sk = cases.Count - p - f;
            if (code != 0 && f == 0)
            {
                f = 1; // a failure outside any It (BeforeAll, discovery): Invoke-Tests.ps1 said which
                notes.Add($"{suite}: failed outside a test");
            }
            passed += p;
            failed += f;
            skipped += sk;
        }
        return new SuiteResult("pester", passed, failed, skipped, notes.Count == 0 ? null : string.Join("; ", notes));
    }

    // ---- staging ---------------------------------------------------------------------

    void StageModule()
    {
        if (Directory.Exists(Stage)) Directory.Delete(Stage, recursive: true);
        Directory.CreateDirectory(Stage);
        var bin = Path.Combine(Out, "module-bin");
        File.Copy(Path.Combine(bin, "SyncPool.dll"), Path.Combine(Stage, "SyncPool.dll"));
        foreach (var name in new[] { "SyncPool.psd1", "SyncPool.format.ps1xml", "SyncPool.types.ps1xml" })
            File.Copy(Path.Combine(root, "module", name), Path.Combine(Stage, name));
        var help = Path.Combine(Stage, "en-US");
        Directory.CreateDirectory(help);
        File.WriteAllText(Path.Combine(help, "SyncPool.dll-Help.xml"), HelpWriter.Build(Path.Combine(root, "module", "help")));
        // About topics (Get-Help about_SyncPool) are plain text, next to the MAML.
        foreach (var about in Directory.GetFiles(Path.Combine(root, "module", "help"), "about_*.help.txt"))
            File.Copy(about, Path.Combine(help, Path.GetFileName(about)));
        var native = Path.Combine(Stage, "runtimes", Rid, "native");
        Directory.CreateDirectory(native);
        File.Copy(NativeBuilt, Path.Combine(native, NativeFile));
    }

    static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        foreach (var dir in Directory.GetDirectories(from)) CopyTree(dir, Path.Combine(to, Path.GetFileName(dir)));
    }

    // ---- tools -----------------------------------------------------------------------

    (string File, string Prefix)? _pwsh;
    bool _pwshLookedUp;

    /// <summary>
    /// pwsh to run scripts with: the repository's pinned dotnet tool, resolved
    /// once to its real entry point (the dotnet host plus pwsh.dll) so it runs
    /// from any working directory; pwsh on PATH otherwise.
    /// </summary>
    (string File, string Prefix)? FindPowerShell()
    {
        if (_pwshLookedUp) return _pwsh;
        _pwshLookedUp = true;
        var (code, output) = Run("dotnet", "tool run pwsh -- -NoProfile -NonInteractive -Command \"[Environment]::GetCommandLineArgs()[0]\"",
            check: false, quiet: true, workDir: root);
        var entry = output.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0);
        if (code == 0 && entry is not null && entry.EndsWith("pwsh.dll", StringComparison.OrdinalIgnoreCase) && File.Exists(entry)
            && Which("dotnet") is { } dotnet)
        {
            return _pwsh = (dotnet, Quote(entry) + " ");
        }
        var onPath = Which("pwsh");
        return _pwsh = onPath is null ? null : (onPath, "");
    }

    (string File, string Prefix) RequirePowerShell() => FindPowerShell() ?? throw new BuildError(
        "PowerShell 7 was not found. Run 'dotnet tool restore' in the repository (it installs the pinned PowerShell tool), or install PowerShell 7.4+.");

    const string PesterVersion = "5.7.1";

    /// <summary>
    /// Pester's module folder, restored from NuGet into .tools/Pester (git-ignored)
    /// on first use: the PowerShell Gallery is not needed.
    /// </summary>
    string? FindPester()
    {
        var dir = Path.Combine(root, ".tools", "Pester");
        if (File.Exists(Path.Combine(dir, "Pester.psd1"))) return dir;
        var scratch = Path.Combine(Path.GetTempPath(), "syncpool-pester-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            File.WriteAllText(Path.Combine(scratch, "restore.csproj"),
                $"<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>" +
                $"<ItemGroup><PackageDownload Include=\"Pester\" Version=\"[{PesterVersion}]\" /></ItemGroup></Project>");
            var (code, output) = Run("dotnet", "restore restore.csproj -nologo", check: false, workDir: scratch, quiet: true);
            if (code != 0)
            {
                var reason = output.Split('\n').FirstOrDefault(l => l.Contains("error")) ?? "restore failed";
                Console.WriteLine($"Pester {PesterVersion} could not be restored from NuGet: {reason.Trim()}");
                return null;
            }
            var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            var tools = Path.Combine(packages, "pester", PesterVersion, "tools");
            if (!File.Exists(Path.Combine(tools, "Pester.psd1"))) return null;
            CopyTree(tools, dir);
            return dir;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    static void Require(string tool, string probeArgs, string message)
    {
        if (Which(tool) is null) throw new BuildError(message);
    }

    static string? Which(string tool)
    {
        var exts = OperatingSystem.IsWindows() ? new[] { ".exe", ".cmd", "" } : new[] { "" };
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
            foreach (var ext in exts)
            {
                var candidate = Path.Combine(dir, tool + ext);
                if (File.Exists(candidate)) return candidate;
            }
        return null;
    }

    static void Step(string title) => Console.WriteLine($"\n== {title}");

    static string Quote(string s) => s.Contains(' ') ? $"\"{s}\"" : s;

    /// <summary>The exit code <see cref="Run"/> reports for a process it killed at its time limit.</summary>
    const int TimedOut = -999;

    (int Code, string Output) Run(string file, string arguments, bool check = true, string? workDir = null, bool quiet = false,
        TimeSpan? timeout = null, Dictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = workDir ?? root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment ?? new()) psi.Environment[key] = value;
        var output = new StringBuilder();
        using var process = new Process { StartInfo = psi };
        void Collect(object _, DataReceivedEventArgs e)
        {
            if (e.Data is null) return;
            lock (output) output.AppendLine(e.Data);
            if (!quiet) Console.WriteLine(e.Data);
        }
        process.OutputDataReceived += Collect;
        process.ErrorDataReceived += Collect;
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception) when (!check)
        {
            return (127, "");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (timeout is { } limit && !process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            if (check) throw new BuildError($"'{Path.GetFileName(file)} {arguments}' did not finish within {limit} and was killed.");
            return (TimedOut, output.ToString());
        }
        process.WaitForExit();
        if (check && process.ExitCode != 0)
            throw new BuildError($"'{Path.GetFileName(file)} {arguments}' failed with exit code {process.ExitCode}.");
        return (process.ExitCode, output.ToString());
    }
}
