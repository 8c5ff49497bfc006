using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using SyncPool.Jobs;
using SyncPool.Native;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>
/// Start-ParallelTask: runs a script on worker runspaces, once per pipeline
/// item (or per batch of items with -BatchSize, or once without input), and
/// writes a ParallelTask for each at once, never waiting for the work.
/// </summary>
/// <remarks>
/// Without -Pool, the call gets a pool of its own (its -ThrottleLimit
/// applies to this call only; there is no hidden global queue). Its tasks
/// run on the engine's shared worker threads, in warm runspaces reused
/// across calls with the same modules and functions. The pool takes no more
/// tasks once the call is over, and leaves Get-ParallelPool once its tasks
/// have been received or removed. The item reaches the script as
/// <c>$_</c>/<c>$PSItem</c> (pipeline input, so <c>process {}</c> works) and
/// as the first positional argument, before -ArgumentList, so
/// <c>param($item, $a, $b)</c> works too.
/// </remarks>
[Cmdlet(VerbsLifecycle.Start, "ParallelTask")]
[OutputType(typeof(ParallelTask))]
[OutputType(typeof(ParallelJob))]
public sealed class StartParallelTaskCommand : SyncPoolCmdlet, IDisposable
{
    /// <summary>The script to run. It is sent as text and parsed in each worker runspace; use $using:name for the caller's variables.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNull]
    public ScriptBlock? ScriptBlock { get; set; }

    /// <summary>The items to run the script for, one task each (or one per batch). An array given by name is one item.</summary>
    [Parameter(ValueFromPipeline = true)]
    public object? InputObject { get; set; }

    /// <summary>Positional arguments for the script, after the item.</summary>
    [Parameter]
    [Alias("Args")]
    public object?[]? ArgumentList { get; set; }

    /// <summary>How many tasks of this call run at once (not with -Pool, whose throttle is fixed). Default: CPU count, at least 5, at most 16 (the engine decides).</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int ThrottleLimit { get; set; }

    /// <summary>Each task's time limit in seconds, counted from the moment it starts running (not while queued). A task over it is stopped and ends TimedOut.</summary>
    [Parameter]
    [ValidatePositiveSeconds]
    public double? TimeoutSeconds { get; set; }

    /// <summary>
    /// The name of the tasks (default: Task&lt;id&gt;): a string, or a
    /// scriptblock run for each item with the item as <c>$_</c> (<c>-Name { "ping-$_" }</c>).
    /// </summary>
    [Parameter]
    [ValidateNotNull]
    [TaskNameArgument]
    public object? Name { get; set; }

    /// <summary>Variables (name = value) each task starts with. Values are shared by reference, e.g. a SyncTable.</summary>
    [Parameter]
    [ValidateNotNull]
    public IDictionary? Variable { get; set; }

    /// <summary>Modules (names or paths) the worker runspaces import (not with -Pool: give them to New-ParallelPool).</summary>
    [Parameter]
    [ValidateNotNull]
    public string[]? ImportModule { get; set; }

    /// <summary>Functions of the caller's session (wildcards allowed) defined in the worker runspaces (not with -Pool).</summary>
    [Parameter]
    [ValidateNotNull]
    public string[]? ImportFunction { get; set; }

    /// <summary>A pool from New-ParallelPool (or its name or id) to run in, instead of a pool for this call.</summary>
    [Parameter]
    [PoolTransformation]
    [ArgumentCompleter(typeof(PoolNameCompleter))]
    [ValidateNotNull]
    public TaskPool? Pool { get; set; }

    /// <summary>
    /// Items per task. The script runs once per batch with the batch's items
    /// as its pipeline input: begin/end once per batch, process (and $_) once
    /// per item. Amortizes per-task cost for many small items. An item is
    /// then not passed as a positional argument.
    /// </summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int BatchSize { get; set; }

    /// <summary>
    /// Write one job for the call instead of the tasks: a ParallelJob with one
    /// child job per task, for Get-Job, Wait-Job, Receive-Job, Stop-Job and
    /// Remove-Job. A -Name string names the job.
    /// </summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    /// <summary>With -AsJob: the tasks started so far, for the job made when the call ends.</summary>
    private readonly List<ParallelTask> _jobTasks = new();

    private TaskScript? _script;
    private TaskPool? _pool;
    private RunspaceSettings? _settings;
    private TaskBatcher? _batcher;
    private TimeSpan? _timeout;
    private bool _sawInput;

    protected override void BeginProcessing()
    {
        if (Pool?.NotFoundKey is { } missing) ThrowTerminatingError(ParallelLookup.PoolNotFound(missing));
        if (Pool is not null)
        {
            if (MyInvocation.BoundParameters.ContainsKey(nameof(ThrottleLimit)))
                Refuse($"-ThrottleLimit sets the throttle of the pool a call makes for itself; pool '{Pool}' keeps its own ({Pool.ThrottleLimit}). Leave out -ThrottleLimit or -Pool.");
            if (ImportModule is not null || ImportFunction is not null)
                Refuse($"-ImportModule and -ImportFunction set up the runspaces of the pool a call makes for itself; for pool '{Pool}', give them to New-ParallelPool.");
            if (Pool.IsPerCall)
                Refuse($"Pool '{Pool}' was made for one Start-ParallelTask call and takes no more tasks. Create a reusable pool with New-ParallelPool.");
            if (Pool.IsRemoved)
                ThrowFailure(new ObjectDisposedException(nameof(TaskPool), $"Pool '{Pool}' has been removed; create a new one with New-ParallelPool."), Pool);
        }

        try
        {
            var (text, ast, shape) = ScriptAnalysis.Analyze(ScriptBlock!);
            var usingValues = UsingValues.Collect(ast, this);
            // Variables are set in the runspace for each batch: the pool's, then this call's, then preferences.
            var variables = new List<KeyValuePair<string, object?>>();
            if (Pool is not null) variables.AddRange(Pool.Variables);
            else _settings = ParallelSettings.Build(this, ImportModule, ImportFunction);
            variables.AddRange(ParallelSettings.Variables(Variable));
            variables.AddRange(ParallelSettings.Preferences(this));
            string? location = CallerDirectory.Of(SessionState);
            _script = TaskScript.Create(text, shape, usingValues, ArgumentList, ToDictionary(variables), location, BatchSize);
            _timeout = TimeoutSeconds is { } s ? TimeSpan.FromSeconds(s) : null;
            if (BatchSize > 0) _batcher = new TaskBatcher(BatchSize);
        }
        catch (UsingValueException e)
        {
            ThrowTerminatingError(e.ErrorRecord);
        }
        catch (SetupItemNotFoundException e)
        {
            ThrowTerminatingError(e.ToErrorRecord());
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            ThrowFailure(e, ScriptBlock);
        }
    }

    protected override void ProcessRecord()
    {
        // Called once even without pipeline input; an item exists only when one
        // was piped or -InputObject was given.
        if (!MyInvocation.ExpectingInput && !MyInvocation.BoundParameters.ContainsKey(nameof(InputObject))) return;
        if ((InputObject is PSObject { BaseObject: var item } ? item : InputObject) is ScriptBlock piped) RefuseScriptBlock(piped);
        _sawInput = true;
        if (_batcher is null)
        {
            Submit(InputObject, hasInput: true);
        }
        else if (_batcher.Add(InputObject) is { } batch)
        {
            Submit(batch, hasInput: true);
        }
    }

    protected override void EndProcessing()
    {
        try
        {
            if (_batcher?.Flush() is { } last)
            {
                Submit(last, hasInput: true);
            }
            else if (!_sawInput && !MyInvocation.ExpectingInput)
            {
                // No input at all: the script runs once, on its own.
                Submit(null, hasInput: false);
            }
        }
        finally
        {
            Seal();
        }
        if (AsJob) WriteJob();
    }

    /// <summary>-AsJob: one job for every task of the call, registered with the job manager (Get-Job finds it).</summary>
    private void WriteJob()
    {
        ParallelJob job;
        try
        {
            job = new ParallelJob(ScriptBlock!.ToString(), Name as string, _jobTasks);
            var made = JobManager.NewJob(new JobInvocationInfo(job.Definition, new Dictionary<string, object> { ["NewJob"] = job }));
            job.StartJob();
            lock (_jobTasks) _jobWritten = true;
            WriteObject(made);
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            ParallelTask[] tasks;
            lock (_jobTasks) tasks = _jobTasks.ToArray();
            StopUnclaimed(tasks, "stopped: its job could not be made");
            ThrowFailure(e, null);
        }
    }

    protected override void StopProcessing()
    {
        base.StopProcessing();
        // Ctrl+C while input was streaming: the tasks already started keep
        // running (they were written out), but this call's pool takes no more.
        // With -AsJob no one will ever get them: they are stopped.
        Seal();
        AbandonJob();
    }

    /// <summary>With -AsJob: the call ended before it wrote its job (tasks submitted after that are stopped too).</summary>
    private bool _jobAbandoned;

    /// <summary>With -AsJob: the job was handed to the job manager and written; its tasks are its own.</summary>
    private bool _jobWritten;

    /// <summary>
    /// With -AsJob and no job written (stopped, or a terminating error before
    /// EndProcessing): no one will ever get the tasks, so they are stopped.
    /// Called from StopProcessing and, whatever way the pipeline ended, from
    /// Dispose, which PowerShell runs before the stopped pipeline returns.
    /// </summary>
    private void AbandonJob()
    {
        if (!AsJob) return;
        ParallelTask[] started;
        lock (_jobTasks)
        {
            if (_jobWritten) return;
            _jobAbandoned = true;
            started = _jobTasks.ToArray();
        }
        StopUnclaimed(started, AbandonedMessage);
    }

    private const string AbandonedMessage = "stopped: the Start-ParallelTask -AsJob that started it was stopped";

    /// <summary>
    /// Stops tasks no job will ever hold, together (so none of the queued ones
    /// starts in a slot a running one frees, see <see cref="TaskStops"/>), and
    /// takes them out of Get-ParallelTask: nobody has a handle on them.
    /// </summary>
    private static void StopUnclaimed(IReadOnlyList<ParallelTask> tasks, string message)
    {
        bool together = TaskStops.Together(tasks, message);
        foreach (var task in tasks)
        {
            try
            {
                if (!together) task.Stop(message);
                NativeCall.Run(() => task.Native.Forget());
            }
            catch (Exception e) when (e is not PipelineStoppedException)
            {
                TaskEngine.ReportFault("Stopping a task of a stopped -AsJob call failed", e);
            }
        }
    }

    /// <summary>
    /// PowerShell disposes the command when its pipeline ends, however it
    /// ends (a later command's terminating error included): the pool of this
    /// call is sealed then at the latest, so it can leave the lists once done.
    /// </summary>
    public new void Dispose()
    {
        Seal();
        AbandonJob();
        base.Dispose();
    }

    /// <summary>This call submits no more: its own pool is sealed, or the named pool told the call has ended.</summary>
    private void Seal()
    {
        try
        {
            if (_pool is not null) _pool.Seal();
            else if (Pool is not null && _script is not null && !_ended) Pool.EndCall(_script);
            _ended = true;
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            TaskEngine.ReportFault("Ending a call's submissions failed", e);
        }
    }

    private bool _ended;

    /// <summary>
    /// A scriptblock as an item would run, as `$_`, on another thread while
    /// bound to this runspace (what corrupts it; ForEach-Object -Parallel
    /// refuses it too). The call's tasks started so far are stopped: nothing
    /// of a refused call keeps running.
    /// </summary>
    private void RefuseScriptBlock(ScriptBlock item)
    {
        _pool?.Remove();
        Seal();
        ThrowTerminatingError(new ErrorRecord(
            new ArgumentException(
                "A scriptblock cannot be an item of Start-ParallelTask: it belongs to this runspace and must not run on a worker. " +
                "Pass the script with -ScriptBlock, or its text as the item and create it in the task with [scriptblock]::Create($_)."),
            "SyncPool.PipedScriptBlock", ErrorCategory.InvalidArgument, item));
    }

    private void Submit(object? input, bool hasInput)
    {
        ParallelTask task;
        try
        {
            task = PoolForCall().Submit(_script!, input, hasInput, _timeout, TaskName(input, hasInput));
        }
        catch (RuntimeException e) when (e is not PipelineStoppedException && e.ErrorRecord is { } record)
        {
            // The -Name scriptblock failed: its own error, not a SyncPool one.
            Seal();
            ThrowTerminatingError(record);
            return;
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            Seal();
            ThrowFailure(e, input);
            return;
        }
        if (AsJob)
        {
            bool abandoned;
            lock (_jobTasks)
            {
                _jobTasks.Add(task);
                abandoned = _jobAbandoned;
            }
            if (abandoned) StopUnclaimed([task], AbandonedMessage);
        }
        else
        {
            WriteObject(task);
        }
    }

    /// <summary>-Name for this task: the text, or what its scriptblock returns for the item.</summary>
    private string? TaskName(object? input, bool hasInput)
    {
        object? name = Name is PSObject { BaseObject: var b } ? b : Name;
        // With -AsJob a -Name text names the job; its tasks keep their own names.
        if (name is not ScriptBlock script) return AsJob ? null : (string?)name;
        var item = input is TaskBatch batch ? batch.FirstOrDefault() : input;
        var result = script.InvokeWithContext(null, [new PSVariable("_", hasInput ? item : null), new PSVariable("PSItem", hasInput ? item : null)]);
        string text = string.Concat(result.Select(r => r?.ToString()));
        if (string.IsNullOrWhiteSpace(text))
            throw new ArgumentException($"The -Name scriptblock returned no name for the item '{item}'.");
        return text;
    }

    /// <summary>-Pool, or the pool of this call (made at the first task, so a call without input makes none).</summary>
    private TaskPool PoolForCall() =>
        Pool ?? (_pool ??= TaskPool.Create(null, ThrottleLimit, perCall: true, _settings!, Array.Empty<KeyValuePair<string, object?>>(), defaultTimeout: null));

    private void Refuse(string message) =>
        ThrowTerminatingError(new ErrorRecord(new ArgumentException(message), "SyncPool.InvalidArgument", ErrorCategory.InvalidArgument, Pool));

    private static Dictionary<string, object?> ToDictionary(IEnumerable<KeyValuePair<string, object?>> pairs)
    {
        var map = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in pairs) map[key] = value;
        return map;
    }
}
