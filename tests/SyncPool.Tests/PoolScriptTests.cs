using System;
using System.Collections.Generic;
using System.Linq;
using SyncPool.Pool;
using Xunit;

namespace SyncPool.Tests;

/// <summary>
/// The PowerShell-independent half of running scripts: how a task's input
/// reaches its script, body wrapping, the batch pipeline's text, $using:
/// keys, and the order results are replayed in. (The engine itself is tested
/// in Rust, rust/tests/pool_*.rs; running scripts in runspaces needs a
/// PowerShell runtime and is covered by the Pester suites.)
/// </summary>
public class PoolScriptTests
{
    private static readonly ScriptShape Plain = new() { BodyStart = 0, BodyEnd = 6 };

    [Fact]
    public void A_plain_script_gets_the_item_as_pipeline_input_and_first_argument()
    {
        var script = TaskScript.Create("$_ * 2", Plain, arguments: new object?[] { "a", "b" });
        var batch = new TaskBatch(new object?[] { 1, 2, 3 });
        Assert.Equal(InputDelivery.Pipeline | InputDelivery.FirstArgument, script.DeliveryFor(true, false));
        Assert.Equal(new object?[] { 42 }, script.PipelineInputFor(42, true, false));
        Assert.Equal(new object?[] { 42, "a", "b" }, script.ArgumentsFor(42, true, false));

        Assert.Equal(InputDelivery.Pipeline, script.DeliveryFor(true, true));
        Assert.Equal(new object?[] { 1, 2, 3 }, script.PipelineInputFor(batch, true, true));
        Assert.Equal(new object?[] { "a", "b" }, script.ArgumentsFor(batch, true, true));

        Assert.Equal("process { $_ * 2\n}", script.TextFor(hasInput: true));
        Assert.Equal("$_ * 2", script.TextFor(hasInput: false)); // runs once on its own: as written

        Assert.Equal(InputDelivery.None, script.DeliveryFor(false, false));
        Assert.Null(script.PipelineInputFor(null, false, false));
        Assert.Equal(new object?[] { "a", "b" }, script.ArgumentsFor(null, false, false));
    }

    [Fact]
    public void A_pipeline_parameter_takes_the_item_from_the_pipeline_only()
    {
        var shape = new ScriptShape { IsAdvanced = true, TakesPipelineInput = true, HasParameters = true, BodyStart = 40, BodyEnd = 50 };
        var script = TaskScript.Create(new string(' ', 60), shape);
        // Passing it positionally as well would bind the parameter twice
        // and PowerShell would reject the pipeline item.
        Assert.Equal(InputDelivery.Pipeline, script.DeliveryFor(true, false));
        Assert.Empty(script.ArgumentsFor(42, true, false));
    }

    [Fact]
    public void An_advanced_script_without_pipeline_parameters_gets_an_argument_and_dollar_underscore()
    {
        var shape = new ScriptShape { IsAdvanced = true, HasParameters = true, BodyStart = 30, BodyEnd = 40 };
        var script = TaskScript.Create(new string(' ', 50), shape, arguments: new object?[] { 7 });
        Assert.Equal(InputDelivery.FirstArgument | InputDelivery.DollarUnderscore, script.DeliveryFor(true, false));
        Assert.Null(script.PipelineInputFor(42, true, false));
        Assert.Equal(new object?[] { 42, 7 }, script.ArgumentsFor(42, true, false));
        Assert.Equal(script.Text, script.RunText); // cannot take input through a process block: left alone
        var e = Assert.Throws<ArgumentException>(() => TaskScript.Create(new string(' ', 50), shape, batchSize: 10));
        Assert.Contains("ValueFromPipeline", e.Message);
    }

    [Fact]
    public void A_body_only_script_is_wrapped_in_a_process_block_keeping_its_param_block()
    {
        const string text = "param($factor)\n$_ * $factor # times\n";
        int start = text.IndexOf("$_", StringComparison.Ordinal);
        int end = text.IndexOf(" # times", StringComparison.Ordinal) + " # times".Length;
        var shape = new ScriptShape { HasParameters = true, BodyStart = start, BodyEnd = end };
        var script = TaskScript.Create(text, shape);
        Assert.Equal("param($factor)\nprocess { $_ * $factor # times\n}\n", script.RunText);
        Assert.Equal(text, script.Text);
    }

    [Fact]
    public void An_unwrapped_body_also_gets_dollar_underscore_as_a_variable()
    {
        var script = TaskScript.Create("$input | % { $_ }", new ScriptShape { UsesInputVariable = true, BodyStart = 0, BodyEnd = 17 });
        var types = TaskScript.Create("class C {}; $_", new ScriptShape { DefinesTypes = true, BodyStart = 0, BodyEnd = 14 });
        var named = TaskScript.Create("process { $_ }", new ScriptShape { HasNamedBlocks = true });
        var all = InputDelivery.Pipeline | InputDelivery.FirstArgument | InputDelivery.DollarUnderscore;
        Assert.Equal(all, script.DeliveryFor(true, false));
        Assert.Equal(all, types.DeliveryFor(true, false));
        Assert.Equal(types.Text, types.RunText);
        Assert.Equal(InputDelivery.Pipeline | InputDelivery.FirstArgument, named.DeliveryFor(true, false));
    }

    [Theory]
    [InlineData(true, false, false)]   // named blocks: the script chose
    [InlineData(false, true, false)]   // reads $input: enumerates input itself
    [InlineData(false, false, true)]   // plain body: wrapped
    public void Wrapping_happens_only_for_plain_bodies(bool named, bool usesInput, bool wrapped)
    {
        var shape = new ScriptShape { HasNamedBlocks = named, UsesInputVariable = usesInput, BodyStart = 0, BodyEnd = 5 };
        Assert.Equal(wrapped, TaskScript.ShouldWrapBody(shape));
        Assert.False(TaskScript.ShouldWrapBody(new ScriptShape { BodyStart = -1, BodyEnd = -1 }), "empty scripts stay empty");
        Assert.False(TaskScript.ShouldWrapBody(new ScriptShape { IsAdvanced = true, BodyStart = 0, BodyEnd = 5 }));
        Assert.True(TaskScript.ShouldWrapBody(new ScriptShape { IsAdvanced = true, TakesPipelineInput = true, BodyStart = 0, BodyEnd = 5 }));
    }

    [Fact]
    public void Wrapping_rejects_offsets_outside_the_text()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TaskScript.WrapBodyInProcessBlock("abc", 2, 9));
        Assert.Throws<ArgumentOutOfRangeException>(() => TaskScript.WrapBodyInProcessBlock("abc", -1, 2));
        Assert.Equal("process { abc\n}", TaskScript.WrapBodyInProcessBlock("abc", 0, 3));
    }

    [Fact]
    public void Using_keys_match_PowerShells_format()
    {
        // base64(UTF-16LE(text)), text lower-cased only for a plain variable.
        Assert.Equal("JAB1AHMAaQBuAGcAOgB4AA==", UsingKey.For("$using:x", isPlainVariable: true));
        Assert.Equal("JAB1AHMAaQBuAGcAOgB4AA==", UsingKey.For("$USING:X", isPlainVariable: true));
        Assert.Equal("JAB1AHMAaQBuAGcAOgBtAHkAdgBhAHIA", UsingKey.For("$Using:MyVar", isPlainVariable: true));
        Assert.Equal("JAB1AHMAaQBuAGcAOgBoAFsAJwBBACcAXQA=", UsingKey.For("$using:h['A']", isPlainVariable: false));
        Assert.NotEqual(UsingKey.For("$using:h['A']", false), UsingKey.For("$using:h['a']", false));
    }

    [Fact]
    public void Batcher_groups_items_and_flushes_the_rest()
    {
        var batcher = new TaskBatcher(3);
        var batches = new List<TaskBatch>();
        foreach (int i in Enumerable.Range(1, 8))
            if (batcher.Add(i) is { } full) batches.Add(full);
        Assert.Equal(2, batcher.Pending);
        if (batcher.Flush() is { } last) batches.Add(last);
        Assert.Null(batcher.Flush());
        Assert.Equal(new[] { 3, 3, 2 }, batches.Select(b => b.Count));
        Assert.Equal(Enumerable.Range(1, 8).Cast<object?>(), batches.SelectMany(b => b));
        Assert.Equal("Batch of 2", batches[2].ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => new TaskBatcher(0));

        var one = new TaskBatcher(1);
        Assert.Equal(new object?[] { null }, one.Add(null));
    }

    [Fact]
    public void A_plain_body_runs_as_one_process_block_over_the_items_and_other_scripts_once_per_task_in_a_loop()
    {
        var plain = TaskScript.Create("$_ * 2", Plain);
        Assert.Equal(("__SyncPoolEachItem", "process { $_ * 2\n}"), plain.BatchDriverFor(hasInput: true));

        var withParam = TaskScript.Create("param($x) $x", new ScriptShape { HasParameters = true, BodyStart = 10, BodyEnd = 12 });
        var (driver, body) = withParam.BatchDriverFor(hasInput: true);
        Assert.Equal("__SyncPoolEachPiped", driver); // piped to the process block, and $x gets it as an argument
        Assert.Equal("param($x) process { $x\n}", body);

        // $input: piped, left unwrapped, so $_ is set too.
        var withInput = TaskScript.Create("$input", new ScriptShape { UsesInputVariable = true, BodyStart = 0, BodyEnd = 6 });
        Assert.Equal(("__SyncPoolEachPipedUnderscore", "$input"), withInput.BatchDriverFor(hasInput: true));
        // An advanced script without a pipeline parameter: only $_ and the argument.
        var advanced = TaskScript.Create("[CmdletBinding()] param($x) $x", new ScriptShape { IsAdvanced = true, HasParameters = true, BodyStart = 27, BodyEnd = 29 });
        Assert.Equal("__SyncPoolEachUnderscore", advanced.BatchDriverFor(hasInput: true).Driver);

        // Run once on its own: as written (no process block without input), nothing piped.
        Assert.Equal(("__SyncPoolEachTask", "$_ * 2"), plain.BatchDriverFor(hasInput: false));

        var batches = TaskScript.Create("process { $_ }", new ScriptShape { HasNamedBlocks = true }, batchSize: 10);
        Assert.Equal(("__SyncPoolEachBatch", "process { $_ }"), batches.BatchDriverFor(hasInput: true));

        // Every driver a script can ask for is defined, and each loops over the cursor with a try per task.
        var drivers = BatchDrivers.Definitions().ToDictionary(e => e.Key, e => e.Value);
        foreach (var name in new[] { "__SyncPoolEachItem", "__SyncPoolEachPiped", "__SyncPoolEachPipedUnderscore", "__SyncPoolEachUnderscore", "__SyncPoolEachTask", "__SyncPoolEachBatch" })
            Assert.True(drivers.ContainsKey(name), name);
        Assert.Contains("$__sp.Inputs() | & $__spBody", drivers["__SyncPoolEachItem"]);
        Assert.Contains("while ($__sp.MoveNext())", drivers["__SyncPoolEachPipedUnderscore"]);
        Assert.Contains(",$__sp.Input | & $__spBody @__spArgs", drivers["__SyncPoolEachPipedUnderscore"]);
        Assert.Contains("$_ = $__sp.Input", drivers["__SyncPoolEachPipedUnderscore"]);
        Assert.Contains("$__sp.Input | & $__spBody", drivers["__SyncPoolEachBatch"]);
        Assert.DoesNotContain("$__sp.Input |", drivers["__SyncPoolEachTask"]);
        Assert.All(drivers.Values, d => Assert.Contains("do {", d)); // a stray break ends only its own task
        Assert.All(drivers.Values, d => Assert.Contains("$__sp.Fail($_)", d));

        Assert.False(TaskScript.Create("using namespace System\n1", new ScriptShape { HasScriptDirectives = true }).CanBatch);
        Assert.False(TaskScript.Create("class C {}", new ScriptShape { DefinesTypes = true }).CanBatch);
        Assert.True(plain.CanBatch);
        Assert.NotEqual(plain.GroupId, withParam.GroupId);
    }

    [Fact]
    public void Results_replay_output_and_records_in_the_order_written()
    {
        var results = new TaskResults();
        results.AddRecord(TaskStream.Verbose, "v0");
        results.AddOutput(1);
        results.AddRecord(TaskStream.Warning, "w1");
        results.AddOutput(2);
        results.AddOutput(3);
        results.AddRecord(TaskStream.Error, "e3");
        results.AddOutput(4);

        static string Show(IEnumerable<TaskItem> items) =>
            string.Join(",", items.Select(i => i.IsOutput ? $"o{i.Output}" : $"{i.Record!.Stream}:{i.Record.Data}"));

        Assert.Equal(4, results.PendingOutput);
        Assert.Equal("Verbose:v0,o1,Warning:w1,o2,o3,Error:e3,o4", Show(results.Take(keep: true)));
        Assert.Equal("Verbose:v0,o1,Warning:w1,o2,o3,Error:e3,o4", Show(results.Take(keep: true)));
        Assert.Equal("Verbose:v0,o1,Warning:w1,o2,o3,Error:e3,o4", Show(results.Take(keep: false)));
        Assert.Empty(results.Take(keep: false));
        Assert.Empty(results.Take(keep: true));
        Assert.Equal(0, results.PendingOutput);
        Assert.Equal(new object[] { "e3" }, results.Errors()); // errors stay after receiving
        Assert.Equal(4, results.OutputCount);
    }

    [Fact]
    public void Draining_while_a_worker_writes_returns_each_item_once_in_order()
    {
        var results = new TaskResults();
        const int n = 20000;
        var writer = System.Threading.Tasks.Task.Run(() =>
        {
            for (int i = 0; i < n; i++)
            {
                results.AddOutput(i);
                results.AddRecord(TaskStream.Information, i);
            }
        });
        var seen = new List<TaskItem>();
        while (!writer.IsCompleted) seen.AddRange(results.Take(keep: false));
        writer.Wait();
        seen.AddRange(results.Take(keep: false));
        var outputs = seen.Where(i => i.IsOutput).Select(i => (int)i.Output!).ToList();
        var records = seen.Where(i => !i.IsOutput).Select(i => (int)i.Record!.Data).ToList();
        Assert.Equal(Enumerable.Range(0, n), outputs);
        Assert.Equal(Enumerable.Range(0, n), records);
        for (int k = 0; k < seen.Count; k += 2)
        {
            Assert.True(seen[k].IsOutput, "output and its record stay interleaved as written");
            Assert.False(seen[k + 1].IsOutput);
        }
    }

    [Fact]
    public void Runspace_settings_describe_themselves_and_share_a_signature_when_equal()
    {
        Assert.Equal("(defaults)", new RunspaceSettings().ToString());
        var s = new RunspaceSettings
        {
            Modules = new[] { "Az.Accounts" },
            Functions = new[] { new KeyValuePair<string, string>("Get-Thing", "'x'") },
            ConstrainedLanguage = true,
        };
        Assert.Equal("Modules: Az.Accounts; Functions: Get-Thing; ConstrainedLanguage", s.ToString());
        var same = new RunspaceSettings { Modules = new[] { "Az.Accounts" }, Functions = new[] { new KeyValuePair<string, string>("Get-Thing", "'x'") }, ConstrainedLanguage = true };
        var other = new RunspaceSettings { Modules = new[] { "Az.Accounts" }, Functions = new[] { new KeyValuePair<string, string>("Get-Thing", "'y'") }, ConstrainedLanguage = true };
        Assert.Equal(s.Signature, same.Signature);
        Assert.NotEqual(s.Signature, other.Signature);
    }

    [Fact]
    public void Task_states_parse_compare_and_filter_as_PowerShell_needs()
    {
        Assert.Equal(SyncPool.Native.TaskState.Completed, SyncPool.Native.TaskState.Parse("completed"));
        Assert.Throws<ArgumentException>(() => SyncPool.Native.TaskState.Parse("Done"));
        Assert.Equal("TimedOut", SyncPool.Native.TaskState.TimedOut.ToString());
        Assert.True(SyncPool.Native.TaskState.Failed.IsFinished);
        Assert.False(SyncPool.Native.TaskState.Running.IsFinished);
        Assert.True(SyncPool.Native.TaskState.Queued.CompareTo(SyncPool.Native.TaskState.TimedOut) < 0);
        Assert.Equal(6, SyncPool.Native.TaskState.All.Select(x => x.Bit).Distinct().Count());
    }
}
