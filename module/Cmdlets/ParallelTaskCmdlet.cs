using System;
using System.Collections.Generic;
using System.Management.Automation;
using SyncPool.Native;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>
/// Base of the cmdlets that act on existing tasks (Wait, Receive, Stop,
/// Remove): they take the tasks as objects (-Task or the pipeline) or by
/// -Id, and resolve them the same way.
/// </summary>
public abstract class ParallelTaskCmdlet : SyncPoolCmdlet, IDisposable
{
    /// <summary>The tasks (from Start-ParallelTask or Get-ParallelTask).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = "Task")]
    [ValidateNotNull]
    public ParallelTask[]? Task { get; set; }

    /// <summary>Ids of the tasks (as Get-ParallelTask shows them).</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Id")]
    [ArgumentCompleter(typeof(TaskIdCompleter))]
    public long[]? Id { get; set; }

    /// <summary>Names of the tasks (wildcards allowed; a name without wildcards that no task has is an error).</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Name")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(TaskNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Ends the engine waits of this cmdlet when the pipeline is stopped (Ctrl+C).</summary>
    internal CancelSignal Cancel => StopSignal;

    protected override void EndProcessing() => EngineFaults.Report(this);

    /// <summary>
    /// The tasks named by this pipeline record: -Task as given, -Id looked up
    /// (an unknown id writes SyncPool.TaskNotFound and is skipped).
    /// </summary>
    protected IEnumerable<ParallelTask> SelectedTasks()
    {
        if (Task is not null)
            foreach (var task in Task)
                if (task is not null) yield return task;
        if (Id is not null)
            foreach (var task in ParallelLookup.TasksById(Id, WriteError)) yield return task;
        if (Name is not null)
            foreach (var task in ParallelLookup.TasksByName(Name, WriteError)) yield return task;
    }
}
