using System;
using System.Collections.Generic;
using System.Linq;
using SyncPool.Pool;
using Xunit;

namespace SyncPool.Tests;

/// <summary>
/// The PowerShell-independent half of running scripts: how a task's input
/// reaches its script, body wrapping, batching, $using: keys, and the order
/// results are replayed in. (The PowerShell half, RunspaceWorker and the
/// cmdlets, needs a PowerShell runtime and is covered by the Pester suite.)
/// </summary>
public class PoolScriptTests
{
    private static readonly ScriptShape Plain = new() { BodyStart = 0, BodyEnd = 6 };

    /// <summary>Tasks carrying inputs, submitted to a pool whose workers never get to run them.</summary>
    private static (TaskPool Pool, ParallelTask Single, ParallelTask Batch, ParallelTask None) Tasks(TaskScript script)
    {
        var pool = PoolTests.NewPool(1);
        var blocker = pool.Submit(null, PoolTests.Work((w, t) => { while (!w.StopRequested) System.Threading.Thread.Sleep(5); return null; }));
        var single = pool.Submit(42, script);
        var batch = pool.Submit(new TaskBatch(new object?[] { 1, 2, 3 }), script);
        var none = pool.SubmitWithoutInput(script);
        _ = blocker;
        return (pool, single, batch, none);
    }

    [Fact]
    public void A_plain_script_gets_the_item_as_pipeline_input_and_first_argument()
    {
        var script = TaskScript.Create("$_ * 2", Plain, arguments: new object?[] { "a", "b" });
        var (pool, single, batch, none) = Tasks(script);
        using (pool)
        {
            Assert.Equal(InputDelivery.Pipeline | InputDelivery.FirstArgument, script.DeliveryFor(single));
            Assert.Equal(new object?[] { 42 }, script.PipelineInputFor(single));
            Assert.Equal(new object?[] { 42, "a", "b" }, script.ArgumentsFor(single));

            Assert.Equal(InputDelivery.Pipeline, script.DeliveryFor(batch));
            Assert.Equal(new object?[] { 1, 2, 3 }, script.PipelineInputFor(batch));
            Assert.Equal(new object?[] { "a", "b" }, script.ArgumentsFor(batch));

            Assert.Equal("process {\n$_ * 2\n}", script.TextFor(single));
            Assert.Equal(script.RunText, script.TextFor(batch));
            Assert.Equal("$_ * 2", script.TextFor(none)); // runs once on its own: as written

            Assert.Equal(InputDelivery.None, script.DeliveryFor(none));
            Assert.Null(script.PipelineInputFor(none));
            Assert.Equal(new object?[] { "a", "b" }, script.ArgumentsFor(none));
        }
    }

    [Fact]
    public void A_pipeline_parameter_takes_the_item_from_the_pipeline_only()
    {
        var shape = new ScriptShape { IsAdvanced = true, TakesPipelineInput = true, HasParameters = true, BodyStart = 40, BodyEnd = 50 };
        var script = TaskScript.Create(new string(' ', 60), shape);
        var (pool, single, _, _) = Tasks(script);
        using (pool)
        {
            // Passing it positionally as well would bind the parameter twice
            // and PowerShell would reject the pipeline item.
            Assert.Equal(InputDelivery.Pipeline, script.DeliveryFor(single));
            Assert.Empty(script.ArgumentsFor(single));
        }
    }

    [Fact]
    public void An_advanced_script_without_pipeline_parameters_gets_an_argument_and_dollar_underscore()
    {
        var shape = new ScriptShape { IsAdvanced = true, HasParameters = true, BodyStart = 30, BodyEnd = 40 };
        var script = TaskScript.Create(new string(' ', 50), shape, arguments: new object?[] { 7 });
        var (pool, single, _, _) = Tasks(script);
        using (pool)
        {
            Assert.Equal(InputDelivery.FirstArgument | InputDelivery.DollarUnderscore, script.DeliveryFor(single));
            Assert.Null(script.PipelineInputFor(single));
            Assert.Equal(new object?[] { 42, 7 }, script.ArgumentsFor(single));
            Assert.Equal(script.Text, script.RunText); // cannot take input through a process block: left alone
        }
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
        Assert.Equal("param($factor)\nprocess {\n$_ * $factor # times\n}\n", script.RunText);
        Assert.Equal(text, script.Text);
    }

    [Fact]
    public void An_unwrapped_body_also_gets_dollar_underscore_as_a_variable()
    {
        var script = TaskScript.Create("$input | % { $_ }", new ScriptShape { UsesInputVariable = true, BodyStart = 0, BodyEnd = 17 });
        var types = TaskScript.Create("class C {}; $_", new ScriptShape { DefinesTypes = true, BodyStart = 0, BodyEnd = 14 });
        var named = TaskScript.Create("process { $_ }", new ScriptShape { HasNamedBlocks = true });
        var (pool, single, _, _) = Tasks(script);
        using (pool)
        {
            var all = InputDelivery.Pipeline | InputDelivery.FirstArgument | InputDelivery.DollarUnderscore;
            Assert.Equal(all, script.DeliveryFor(single));
            Assert.Equal(all, types.DeliveryFor(single));
            Assert.Equal(types.Text, types.RunText);
            Assert.Equal(InputDelivery.Pipeline | InputDelivery.FirstArgument, named.DeliveryFor(single));
        }
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
        Assert.Equal("process {\nabc\n}", TaskScript.WrapBodyInProcessBlock("abc", 0, 3));
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
    public void Batch_tasks_are_marked_and_keep_their_items()
    {
        using var pool = PoolTests.NewPool(1);
        var batch = new TaskBatch(new object?[] { "a", "b" });
        var task = pool.Submit(batch, PoolTests.Work((w, t) => ((TaskBatch)t.Input!).Count));
        var single = pool.Submit("a", PoolTests.Work((w, t) => 1));
        var none = pool.SubmitWithoutInput(PoolTests.Work((w, t) => t.HasInput));
        Assert.True(pool.WaitAll(new[] { task, single, none }, TimeSpan.FromSeconds(30)));
        Assert.True(task.IsBatch);
        Assert.False(single.IsBatch);
        Assert.Equal(2, task.Output.Single());
        Assert.False(none.HasInput);
        Assert.Equal(false, none.Output.Single());
        Assert.True(single.HasInput);
    }

    [Fact]
    public void Results_replay_output_and_records_in_the_order_written()
    {
        using var pool = PoolTests.NewPool(1);
        var task = pool.Submit(null, PoolTests.Work((w, t) =>
        {
            t.AddRecord(TaskStream.Verbose, "v0");
            t.AddOutput(1);
            t.AddRecord(TaskStream.Warning, "w1");
            t.AddOutput(2);
            t.AddOutput(3);
            t.AddRecord(TaskStream.Error, "e3");
            return 4; // the delegate worker adds this last
        }));
        Assert.True(pool.WaitAll(new[] { task }, TimeSpan.FromSeconds(30)));

        static string Show(IEnumerable<TaskItem> items) =>
            string.Join(",", items.Select(i => i.IsOutput ? $"o{i.Output}" : $"{i.Record!.Stream}:{i.Record.Data}"));

        Assert.Equal("Verbose:v0,o1,Warning:w1,o2,o3,Error:e3,o4", Show(task.TakeResults(keep: true)));
        Assert.Equal("Verbose:v0,o1,Warning:w1,o2,o3,Error:e3,o4", Show(task.TakeResults(keep: true)));
        Assert.Equal("Verbose:v0,o1,Warning:w1,o2,o3,Error:e3,o4", Show(task.TakeResults(keep: false)));
        Assert.Empty(task.TakeResults(keep: false));
        Assert.Empty(task.TakeResults(keep: true));
        Assert.Empty(task.Output);
        Assert.Empty(task.Records);
    }

    [Fact]
    public void Draining_while_the_task_writes_returns_each_item_once_in_order()
    {
        using var pool = PoolTests.NewPool(1);
        const int n = 2000;
        var task = pool.Submit(null, PoolTests.Work((w, t) =>
        {
            for (int i = 0; i < n; i++)
            {
                t.AddOutput(i);
                t.AddRecord(TaskStream.Information, i);
            }
            return -1;
        }));
        var seen = new List<TaskItem>();
        while (!task.IsFinished) seen.AddRange(task.TakeResults(keep: false));
        seen.AddRange(task.TakeResults(keep: false));
        var outputs = seen.Where(i => i.IsOutput).Select(i => (int)i.Output!).ToList();
        var records = seen.Where(i => !i.IsOutput).Select(i => (int)i.Record!.Data).ToList();
        Assert.Equal(Enumerable.Range(0, n).Append(-1), outputs);
        Assert.Equal(Enumerable.Range(0, n), records);
        // Each record comes right after the output written before it.
        for (int k = 0; k < n; k++)
        {
            int o = seen.FindIndex(i => i.IsOutput && (int)i.Output! == k);
            int r = seen.FindIndex(i => !i.IsOutput && (int)i.Record!.Data == k);
            Assert.True(r > o, $"record {k} came before its output");
        }
    }

    [Fact]
    public void Wait_progress_estimates_the_time_left()
    {
        var p = new WaitProgress(Total: 10, Finished: 4, Running: 3, Elapsed: TimeSpan.FromSeconds(8));
        Assert.Equal(6, p.Unfinished);
        Assert.Equal(40, p.PercentComplete);
        Assert.Equal(TimeSpan.FromSeconds(12), p.Remaining);
        Assert.Null(new WaitProgress(10, 0, 3, TimeSpan.FromSeconds(1)).Remaining);
        Assert.Null(new WaitProgress(10, 10, 0, TimeSpan.FromSeconds(1)).Remaining);
        Assert.Equal(100, new WaitProgress(0, 0, 0, TimeSpan.Zero).PercentComplete);
    }

    [Fact]
    public void Runspace_settings_describe_themselves()
    {
        Assert.Equal("(defaults)", new RunspaceSettings().ToString());
        var s = new RunspaceSettings
        {
            Modules = new[] { "Az.Accounts" },
            Functions = new[] { new KeyValuePair<string, string>("Get-Thing", "'x'") },
            Variables = new[] { new KeyValuePair<string, object?>("t", 1) },
            ConstrainedLanguage = true,
        };
        Assert.Equal("Modules: Az.Accounts; Functions: Get-Thing; Variables: $t; ConstrainedLanguage", s.ToString());
    }
}
