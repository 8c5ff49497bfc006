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
    [ArgumentCompleter(typeof(TaskIdCompleter))]
    public long[]? Id { get; set; }

    /// <summary>Task names to return (wildcards allowed).</summary>
    [Parameter(ParameterSetName = "All")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(TaskNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Only tasks in these states.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(TaskStateCompleter))]
    public TaskState[]? State { get; set; }

    /// <summary>Only tasks of this pool (object, name or id).</summary>
    [Parameter]
    [PoolTransformation]
    [ArgumentCompleter(typeof(PoolNameCompleter))]
    [ValidateNotNull]
    public TaskPool? Pool { get; set; }

    protected override void ProcessRecord()
    {
        EngineFaults.Report(this);
        if (Pool?.NotFoundKey is { } missing)
        {
            WriteError(ParallelLookup.PoolNotFound(missing));
            return;
        }
        IEnumerable<ParallelTask> tasks;
        if (Id is not null)
        {
            tasks = ParallelLookup.TasksById(Id, WriteError).Where(t => Pool is null || ReferenceEquals(t.Pool, Pool));
            if (State is not null) tasks = tasks.Where(t => State.Contains(t.State));
        }
        else
        {
            // The engine filters by pool and state; names are PowerShell wildcards.
            try
            {
                tasks = TaskEngine.Tasks(Pool, State);
            }
            catch (SyncPoolException e) when (e.Code.IsUnknownPool && Pool is not null)
            {
                // A pool object whose pool was removed: as for a name or id that matches none.
                WriteError(ParallelLookup.PoolNotFound(Pool.Name ?? (object)Pool.Id));
                return;
            }
            if (Name is not null)
            {
                var patterns = Name.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
                tasks = tasks.Where(t => patterns.Any(p => p.IsMatch(t.Name)));
                ReportUnknownNames();
            }
        }
        foreach (var task in tasks) WriteObject(task);
    }

    /// <summary>
    /// A name without wildcards that no listed task (of -Pool, in any state)
    /// has is an error, as Get-Job -Name's; a name that only -State filters
    /// out is not.
    /// </summary>
    private void ReportUnknownNames()
    {
        var names = Name!.Where(n => !WildcardPattern.ContainsWildcardCharacters(n)).ToList();
        if (names.Count == 0) return;
        var known = new HashSet<string>(TaskEngine.Tasks(Pool, null).Select(t => t.Name), System.StringComparer.OrdinalIgnoreCase);
        foreach (string name in names)
            if (!known.Contains(name)) WriteError(ParallelLookup.TaskNotFound(name));
    }
}
