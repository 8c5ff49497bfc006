using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace SyncPool.Pool;

/// <summary>
/// Runs <see cref="TaskScript"/> tasks in PowerShell: one runspace per
/// worker thread, created at the worker's first task, on that thread, and
/// reused (reset after each task). Pipelines run synchronously on the worker
/// thread itself (<see cref="PSThreadOptions.UseCurrentThread"/>), so the
/// native pool's thread, its stack and its stop/timeout handling apply to
/// the script directly.
/// </summary>
/// <remarks>
/// Compile-checked only: the test machine has no PowerShell runtime. What
/// does not need PowerShell (input delivery, batching, keys) lives in
/// <see cref="TaskScript"/> and is unit-tested.
/// </remarks>
public sealed class RunspaceWorker : ITaskWorker
{
    private readonly RunspaceSettings _settings;
    private readonly string _runspaceName;
    private readonly Action<Exception> _reportFault;
    private readonly RunningTaskSlot _slot = new();
    private Runspace? _runspace;
    private int _disposed;

    /// <param name="settings">What the runspace starts with.</param>
    /// <param name="runspaceName">Shown by Get-Runspace, e.g. "SyncPool:Pool3:Worker2".</param>
    /// <param name="reportFault">Where exceptions with no task to carry them go (disposal failures).</param>
    public RunspaceWorker(RunspaceSettings settings, string runspaceName, Action<Exception> reportFault)
    {
        _settings = settings ?? throw new ArgumentNullException(nameof(settings));
        _runspaceName = runspaceName;
        _reportFault = reportFault ?? throw new ArgumentNullException(nameof(reportFault));
    }

    /// <summary>A factory for <see cref="TaskPool"/>: one worker per native worker id.</summary>
    public static Func<uint, ITaskWorker> Factory(RunspaceSettings settings, Func<TaskPool?> pool) =>
        workerId =>
        {
            var owner = pool();
            string name = $"SyncPool:{(owner?.ToString() ?? "Pool")}:Worker{workerId}";
            return new RunspaceWorker(settings, name, e => owner?.ReportFault(e));
        };

    /// <summary>
    /// A pool whose workers run PowerShell with <paramref name="settings"/>,
    /// registered (owned by the calling runspace) so tasks can be found by id
    /// and the pool is shut down on Remove-Module and exit.
    /// </summary>
    public static TaskPool CreatePool(int throttleLimit, RunspaceSettings settings, string? name = null, bool perCall = false)
    {
        TaskPool? pool = null;
        // Workers are created lazily, after the constructor returned: the factory reads `pool` then.
        pool = new TaskPool(throttleLimit, Factory(settings, () => pool), name: name, perCall: perCall) { WorkerSettings = settings };
        PoolRegistry.Add(pool, Runspace.DefaultRunspace);
        return pool;
    }

    public bool Run(ParallelTask task)
    {
        if (task.Work is not TaskScript script)
            throw new ArgumentException($"Task {task.Id} carries no script to run ({task.Work?.GetType().Name ?? "null"}).", nameof(task));
        if (task.StopRequested) return false;

        Runspace runspace;
        try
        {
            runspace = EnsureRunspace();
            Prepare(runspace, script, task);
        }
        catch (Exception e)
        {
            // A runspace that cannot be opened or reset is not reused: the next
            // task starts from a fresh one (and reports its own failure, if any).
            DiscardRunspace();
            task.AddRecord(TaskStream.Error, ErrorFor(e, "SyncPool.RunspaceFailed", task));
            return false;
        }

        using var ps = PowerShell.Create();
        ps.Runspace = runspace;
        var output = new PSDataCollection<PSObject>();
        Connect(ps, output, task);

        // The script goes as text: PowerShell caches compiled script text
        // process-wide, so each item re-uses the parse of the first.
        ps.AddScript(script.TextFor(task));
        foreach (var argument in script.ArgumentsFor(task)) ps.AddArgument(argument);
        if (script.UsingValues.Count > 0)
        {
            // The same special parameter ForEach-Object -Parallel and
            // Start-ThreadJob use: the parameter binder keeps the dictionary
            // for the $using: expressions of the script (keys: see UsingKey).
            ps.AddParameter("--%", ToHashtable(script.UsingValues));
        }

        var input = script.PipelineInputFor(task);
        PSDataCollection<object?>? inputCollection = input is null ? null : new PSDataCollection<object?>(input);
        var settings = new PSInvocationSettings { ExposeFlowControlExceptions = true };

        try
        {
            // From here a stop request for this task stops this pipeline (never
            // synchronously: Stop() from another pipeline's StopProcessing can
            // deadlock). A request that came earlier means: do not start.
            var thread = System.Threading.Thread.CurrentThread;
            if (!_slot.Enter(task, () => StopPipeline(ps, thread, task))) return false;
            ps.Invoke(inputCollection, output, settings);
            return !task.StopRequested;
        }
        catch (Exception e) when (FindExit(e) is { } exit)
        {
            // `exit` ends this task only (the runspace is reset before the next).
            task.ExitCode = ExitCodeOf(exit);
            return !task.StopRequested;
        }
        catch (FlowControlException)
        {
            // A top-level break/continue/return outside a loop just ends the script.
            return !task.StopRequested;
        }
        catch (Exception e)
        {
            if (e is PipelineStoppedException && task.StopRequested) return false;
            var record = ErrorFor(e, "SyncPool.TaskFailed", task);
            if (!AlreadyRecorded(task, record)) task.AddRecord(TaskStream.Error, record);
            return false;
        }
        finally
        {
            LeaveSlot();
            inputCollection?.Dispose();
            output.Dispose();
            ResetAfterTask();
        }
    }

    /// <summary>
    /// Returns the runspace to its initial state right after each task (about
    /// ten times cheaper than a new runspace), so nothing one task left in
    /// its variables is held while the worker idles or seen by the next
    /// task. Variables given to the pool come back with it (they live in the
    /// initial session state). Functions and modules a task defined or
    /// imported stay, as in ForEach-Object -Parallel.
    /// </summary>
    private void ResetAfterTask()
    {
        var runspace = _runspace;
        if (runspace is null) return;
        try
        {
            runspace.ResetRunspaceState();
        }
        catch (Exception e)
        {
            _reportFault(e);
            DiscardRunspace();
        }
    }

    /// <summary>Leaves the slot, absorbing an interrupt that arrived as the task ended (it must not hit the next task).</summary>
    private void LeaveSlot()
    {
        try
        {
            _slot.Leave();
        }
        catch (System.Threading.ThreadInterruptedException)
        {
            _slot.Leave();
        }
        try
        {
            System.Threading.Thread.Sleep(0);
        }
        catch (System.Threading.ThreadInterruptedException)
        {
        }
    }

    /// <summary>How long a stopped pipeline may ignore the stop before its thread is interrupted.</summary>
    private static readonly TimeSpan InterruptAfter = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Asks the pipeline to stop; if the script is still inside a blocking
    /// .NET wait (Thread.Sleep, WaitOne, Monitor.Wait) after a grace period,
    /// interrupts the thread so the wait throws and the runspace becomes
    /// closable (pwsh disposes every open runspace on exit and would
    /// otherwise wait for this one forever).
    /// </summary>
    private void StopPipeline(PowerShell ps, System.Threading.Thread thread, ParallelTask task)
    {
        ps.BeginStop(null, null);
        System.Threading.Timer? timer = null;
        timer = new System.Threading.Timer(_ =>
        {
            timer?.Dispose();
            _slot.Interrupt(task, thread);
        }, null, InterruptAfter, System.Threading.Timeout.InfiniteTimeSpan);
    }

    public void RequestStop(ParallelTask task)
    {
        try
        {
            _slot.RequestStop(task);
        }
        catch (InvalidOperationException e)
        {
            // The pipeline finished or was torn down between the check and the
            // call; nothing is left to stop. Kept for diagnosis all the same.
            _reportFault(e);
        }
    }

    /// <summary>Closes the runspace. Never throws (it may run on any thread, during shutdown).</summary>
    public void Dispose()
    {
        if (System.Threading.Interlocked.Exchange(ref _disposed, 1) == 1) return;
        DiscardRunspace();
    }

    // ---- runspace ------------------------------------------------------------------

    private Runspace EnsureRunspace()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_runspace is { RunspaceStateInfo.State: RunspaceState.Opened }) return _runspace;
        DiscardRunspace();
        var runspace = RunspaceFactory.CreateRunspace(BuildSessionState(_settings));
        runspace.ThreadOptions = PSThreadOptions.UseCurrentThread;
        runspace.Name = _runspaceName;
        try
        {
            runspace.Open();
        }
        catch
        {
            runspace.Dispose();
            throw;
        }
        _runspace = runspace;
        return runspace;
    }

    /// <summary>The session every runspace of a pool starts with (and is reset to).</summary>
    internal static InitialSessionState BuildSessionState(RunspaceSettings settings)
    {
        var iss = InitialSessionState.CreateDefault2();
        iss.ThreadOptions = PSThreadOptions.UseCurrentThread;
        if (settings.ConstrainedLanguage) iss.LanguageMode = PSLanguageMode.ConstrainedLanguage;
        // A module that fails to import fails the task with the reason, rather
        // than leaving its commands silently missing.
        iss.ThrowOnRunspaceOpenError = true;
        foreach (var (name, value) in settings.Variables)
        {
            // Reset re-applies these entries, with the same value objects: a
            // SyncTable passed here is shared by reference by every task.
            iss.Variables.Add(new SessionStateVariableEntry(name, value, "Set by SyncPool (-Variable)"));
        }
        foreach (var (name, definition) in settings.Functions)
        {
            iss.Commands.Add(new SessionStateFunctionEntry(name, definition));
        }
        var modules = new List<string>();
        if (settings.SyncPoolModulePath is { Length: > 0 } own) modules.Add(own);
        modules.AddRange(settings.Modules);
        if (modules.Count > 0) iss.ImportPSModule(modules.ToArray());
        return iss;
    }

    private void DiscardRunspace()
    {
        var runspace = _runspace;
        _runspace = null;
        if (runspace is null) return;
        try
        {
            runspace.Dispose();
        }
        catch (Exception e)
        {
            _reportFault(e);
        }
    }

    /// <summary>Per-task state on top of the reset runspace: working directory, variables, <c>$_</c>.</summary>
    private void Prepare(Runspace runspace, TaskScript script, ParallelTask task)
    {
        var state = runspace.SessionStateProxy;
        if (script.WorkingDirectory is { } dir)
        {
            try
            {
                state.Path.SetLocation(WildcardPattern.Escape(dir));
            }
            catch (Exception e) when (e is RuntimeException or ArgumentException or InvalidOperationException
                                        or System.IO.IOException or UnauthorizedAccessException)
            {
                task.AddRecord(TaskStream.Warning, new WarningRecord(
                    $"The task could not start in the caller's directory '{dir}' ({e.Message}); it runs in '{state.Path.CurrentLocation}'."));
            }
        }
        foreach (var (name, value) in script.Variables) state.SetVariable(name, value);
        if ((script.DeliveryFor(task) & InputDelivery.DollarUnderscore) != 0) state.SetVariable("_", task.Input);
    }

    // ---- streams --------------------------------------------------------------------

    /// <summary>
    /// Routes every stream into the task as it is written. All of them are
    /// written on this (the worker) thread during Invoke, so the order of
    /// <see cref="ParallelTask.AddOutput"/> and <see cref="ParallelTask.AddRecord"/>
    /// calls is the order the script wrote in. ReadAll empties each
    /// collection as it goes, so nothing is held twice.
    /// </summary>
    private static void Connect(PowerShell ps, PSDataCollection<PSObject> output, ParallelTask task)
    {
        output.DataAdded += (_, _) => { foreach (var item in output.ReadAll()) task.AddOutput(item); };
        var streams = ps.Streams;
        streams.Error.DataAdded += (_, _) => { foreach (var r in streams.Error.ReadAll()) task.AddRecord(TaskStream.Error, r); };
        streams.Warning.DataAdded += (_, _) => { foreach (var r in streams.Warning.ReadAll()) task.AddRecord(TaskStream.Warning, r); };
        streams.Verbose.DataAdded += (_, _) => { foreach (var r in streams.Verbose.ReadAll()) task.AddRecord(TaskStream.Verbose, r); };
        streams.Debug.DataAdded += (_, _) => { foreach (var r in streams.Debug.ReadAll()) task.AddRecord(TaskStream.Debug, r); };
        streams.Information.DataAdded += (_, _) => { foreach (var r in streams.Information.ReadAll()) task.AddRecord(TaskStream.Information, r); };
        streams.Progress.DataAdded += (_, _) => { foreach (var r in streams.Progress.ReadAll()) task.AddRecord(TaskStream.Progress, r); };
    }

    private static Hashtable ToHashtable(IReadOnlyDictionary<string, object?> values)
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

    private static ErrorRecord ErrorFor(Exception e, string errorId, ParallelTask task) =>
        e is IContainsErrorRecord { ErrorRecord: { } record }
            ? record
            : new ErrorRecord(e, errorId, ErrorCategory.NotSpecified, task.Input);

    /// <summary>A terminating error is sometimes also written to the error stream; keep it once.</summary>
    private static bool AlreadyRecorded(ParallelTask task, ErrorRecord record)
    {
        foreach (var existing in task.Records)
            if (existing.Stream == TaskStream.Error && ReferenceEquals(existing.Data, record)) return true;
        return false;
    }
}
