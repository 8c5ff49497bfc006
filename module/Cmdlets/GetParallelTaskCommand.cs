using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using SyncPool.Native;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>Get-ParallelTask: lists the tasks of every pool (or of one), filtered by id, name or state.</summary>
[Cmdlet(VerbsCommon.Get, "ParallelTask", DefaultParameterSetName = "All")]
[OutputType(typeof(ParallelTask))]
public sealed class GetParallelTaskCommand : SyncPoolCmdlet
{
    /// <summary>Ids of the tasks to return.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = "Id")]
    public long[]? Id { get; set; }

    /// <summary>Task names to return (wildcards allowed).</summary>
    [Parameter(ParameterSetName = "All")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Only tasks in these states.</summary>
    [Parameter]
    public TaskState[]? State { get; set; }

    /// <summary>Only tasks of this pool (object, name or id).</summary>
    [Parameter]
    [PoolTransformation]
    [ValidateNotNull]
    public TaskPool? Pool { get; set; }

    protected override void ProcessRecord()
    {
        EngineFaults.Report(this);
        IEnumerable<ParallelTask> tasks;
        if (Id is not null)
        {
            tasks = ParallelLookup.TasksById(Id, WriteError).Where(t => Pool is null || ReferenceEquals(t.Pool, Pool));
            if (State is not null) tasks = tasks.Where(t => State.Contains(t.State));
        }
        else
        {
            // The engine filters by pool and state; names are PowerShell wildcards.
            tasks = TaskEngine.Tasks(Pool, State);
            if (Name is not null)
            {
                var patterns = Name.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
                tasks = tasks.Where(t => patterns.Any(p => p.IsMatch(t.Name)));
            }
        }
        foreach (var task in tasks) WriteObject(task);
    }
}
