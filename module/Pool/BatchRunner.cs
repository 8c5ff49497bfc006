using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using SyncPool.Native;

namespace SyncPool.Pool;

/// <summary>
/// Runs a batch the engine handed a worker: its tasks' scripts, one after
/// the other, in the context's runspace, on the worker's own thread
/// (<see cref="PSThreadOptions.UseCurrentThread"/>), so the engine's thread,
/// stack and stop handling apply to the scripts directly.
/// </summary>
/// <remarks>
/// A batch normally runs in a single pipeline (<see cref="BatchDrivers"/>)
/// that invokes the task's script once per task: that is what makes tiny
/// tasks cheap. Streams go to the task whose script is running. A stop or
/// <c>exit</c> ends that pipeline; the rest of the batch continues in a new
/// one. Scripts that cannot be nested (classes, <c>using</c> statements,
/// <c>#requires</c>), and every script of a ConstrainedLanguage caller (the
/// batch drivers are trusted code, see <see cref="BatchDrivers"/>), run one
/// pipeline per task instead. The runspace is reset after each batch.
/// </remarks>
internal static class BatchRunner
{
    private const byte KeepContext = 1;
    private const byte DiscardContext = 0;

    /// <summary>The batch each worker runs now, for stop requests.</summary>
    private static readonly ConcurrentDictionary<uint, BatchCursor> Running = new();

    public static byte Run(uint worker, ulong batch, ulong pool, ulong context, byte fresh, ulong contextKey)
    {
        var cursor = new BatchCursor(batch);
        Running[worker] = cursor;
        try
        {
            WorkerRunspace runspace;
            try
            {
                runspace = RunspaceContexts.Get(context, fresh != 0, contextKey);
            }
            catch (Exception e)
            {
                FailAll(cursor, e, "SyncPool.RunspaceFailed", "The worker's runspace could not be set up");
                return DiscardContext;
            }
            bool healthy = true;
            runspace.Serve(cursor);
            try
            {
                ParallelTask? prepared = null;
                while (!cursor.Abandoned)
                {
                    // A pipeline is prepared for the next task before the engine starts it (its
                    // first MoveNext does), so its timeout counts from its own script's start,
                    // not from the directory, variables and driver set up for it. A task that a
                    // prepared pipeline never reached is started here instead, so it cannot come
                    // round again.
                    var next = cursor.Peek();
                    if (next is not null && next != prepared && next.Script.CanBatch && runspace.IsFullLanguage)
                    {
                        prepared = next;
                        healthy &= RunPipeline(runspace, cursor, next);
                        continue;
                    }
                    if (!cursor.Prime()) break;
                    var task = cursor.Current!;
                    healthy &= task.Script.CanBatch && runspace.IsFullLanguage ? RunPipeline(runspace, cursor, task) : RunOne(runspace, cursor, task);
                }
            }
            finally
            {
                runspace.Serve(null);
            }
            if (cursor.Abandoned) return DiscardContext;
            return healthy && !runspace.Unfit && Reset(runspace) ? KeepContext : DiscardContext;
        }
        catch (Exception e)
        {
            TaskEngine.ReportFault($"A worker failed to run batch {batch} of Pool{pool}", e);
            FailAll(cursor, e, "SyncPool.InternalError", "SyncPool could not run the task");
            return DiscardContext;
        }
        finally
        {
            Running.TryRemove(new KeyValuePair<uint, BatchCursor>(worker, cursor));
        }
    }

    public static void Stop(uint worker, ulong task, byte level)
    {
        if (Running.TryGetValue(worker, out var cursor)) cursor.OnStop(task, level);
    }

    /// <summary>
    /// Runs tasks of the batch in one pipeline until it ends, from
    /// <paramref name="first"/> (started already, or started by the
    /// pipeline's first MoveNext); false if the runspace is no longer fit for
    /// reuse.
    /// </summary>
    private static bool RunPipeline(WorkerRunspace runspace, BatchCursor cursor, ParallelTask first)
    {
        var script = first.Script;
        Prepare(runspace, script, first);
        var (driver, body) = script.BatchDriverFor(first);
        var ps = runspace.Reuse();
        ps.AddCommand(driver)
            .AddParameter(BatchDrivers.CursorParameter, cursor)
            .AddParameter(BatchDrivers.BodyParameter, ScriptBlock.Create(body));
        if (script.UsingValues.Count > 0) ps.AddParameter("--%", UsingTable(script.UsingValues));
        cursor.Running(ps);
        try
        {
            ps.Invoke(null, runspace.Output, new PSInvocationSettings { ExposeFlowControlExceptions = true });
            // A pipeline that ended early (a task's terminating error, break) leaves its task current.
            cursor.End();
            return true;
        }
        catch (Exception e)
        {
            return Ended(cursor, e);
        }
        finally
        {
            cursor.Running(null);
        }
    }

    /// <summary>A script that cannot be nested: its own pipeline, for the current task.</summary>
    private static bool RunOne(WorkerRunspace runspace, BatchCursor cursor, ParallelTask task)
    {
        var script = task.Script;
        Prepare(runspace, script, task);
        if ((script.DeliveryFor(task) & InputDelivery.DollarUnderscore) != 0) runspace.Runspace.SessionStateProxy.SetVariable("_", task.Input);
        var ps = runspace.Reuse();
        ps.AddScript(script.TextFor(task));
        foreach (var argument in script.ArgumentsFor(task)) ps.AddArgument(argument);
        if (script.UsingValues.Count > 0) ps.AddParameter("--%", UsingTable(script.UsingValues));
        var input = script.PipelineInputFor(task);
        using var inputCollection = input is null ? null : new PSDataCollection<object?>(input);
        cursor.Running(ps);
        try
        {
            ps.Invoke(inputCollection, runspace.Output, new PSInvocationSettings { ExposeFlowControlExceptions = true });
            cursor.End();
            return true;
        }
        catch (Exception e)
        {
            return Ended(cursor, e);
        }
        finally
        {
            cursor.Running(null);
        }
    }

    /// <summary>
    /// The pipeline ended with an exception: <c>exit</c> (the task completed
    /// with its code), a stop (the engine has already ended the task), or a
    /// failure. Ends the current task; false if the runspace may be damaged.
    /// </summary>
    private static bool Ended(BatchCursor cursor, Exception e)
    {
        var task = cursor.Current;
        if (FindExit(e) is { } exit)
        {
            if (task is not null) task.ExitCode = ExitCodeOf(exit);
            cursor.End();
            return true;
        }
        if (e is PipelineStoppedException || e is FlowControlException)
        {
            cursor.End();
            return true;
        }
        if (task is not null)
        {
            var record = ErrorFor(e, task);
            if (!task.Results.Errors().Contains(record)) cursor.Fail(record);
            cursor.MarkFailed();
        }
        cursor.End(e.Message);
        // An interrupt or an engine failure may have left the runspace half done: do not reuse it.
        return e is not (System.Threading.ThreadInterruptedException or InvalidRunspaceStateException);
    }

    /// <summary>Per-batch state on top of the reset runspace: working directory, variables.</summary>
    private static void Prepare(WorkerRunspace runspace, TaskScript script, ParallelTask first)
    {
        var state = runspace.Runspace.SessionStateProxy;
        if (script.WorkingDirectory is { } dir)
        {
            try
            {
                runspace.MoveTo(dir);
            }
            catch (Exception e) when (e is RuntimeException or ArgumentException or InvalidOperationException
                                        or System.IO.IOException or UnauthorizedAccessException)
            {
                first.Results.AddRecord(TaskStream.Warning, new WarningRecord(
                    $"The task could not start in the caller's directory '{dir}' ({e.Message}); it runs in '{state.Path.CurrentLocation}'."));
            }
        }
        foreach (var (name, value) in script.Variables) state.SetVariable(name, value);
    }

    private static bool Reset(WorkerRunspace runspace)
    {
        try
        {
            runspace.Reset();
            return true;
        }
        catch (Exception e)
        {
            TaskEngine.ReportFault("Resetting a worker runspace failed (it is replaced)", e);
            return false;
        }
    }

    /// <summary>Every task of the batch fails with the same reason (the runspace could not be had).</summary>
    private static void FailAll(BatchCursor cursor, Exception e, string errorId, string what)
    {
        try
        {
            if (cursor.Current is null && !cursor.Prime()) return;
            do
            {
                var task = cursor.Current!;
                task.Results.AddRecord(TaskStream.Error, new ErrorRecord(e, errorId, ErrorCategory.ResourceUnavailable, task.Input));
                cursor.MarkFailed();
                cursor.End($"{what}: {e.Message}");
            } while (cursor.Prime());
        }
        catch (Exception again)
        {
            TaskEngine.ReportFault("Failing the tasks of a broken batch failed", again);
        }
    }

    // ---- streams --------------------------------------------------------------------------------

    private static Hashtable UsingTable(IReadOnlyDictionary<string, object?> values)
    {
        // Keys are base64 (case matters), so an ordinal, case-sensitive table.
        var table = new Hashtable(values.Count, StringComparer.Ordinal);
        foreach (var (key, value) in values) table[key] = value;
        return table;
    }

    private static ExitException? FindExit(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is ExitException exit) return exit;
        return null;
    }

    private static int? ExitCodeOf(ExitException exit) =>
        exit.Argument switch
        {
            int code => code,
            null => 0,
            var other => LanguagePrimitives.TryConvertTo(other, out int code) ? code : null,
        };

    private static ErrorRecord ErrorFor(Exception e, ParallelTask task) =>
        e is IContainsErrorRecord { ErrorRecord: { } record }
            ? record
            : new ErrorRecord(e, "SyncPool.TaskFailed", ErrorCategory.NotSpecified, task.Input);
}
