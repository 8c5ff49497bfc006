using System.Linq;
using System.Management.Automation;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>
/// Get-ParallelPool: lists the pools of this process: those made with
/// New-ParallelPool and those Start-ParallelTask made for one call (while
/// they still hold tasks).
/// </summary>
[Cmdlet(VerbsCommon.Get, "ParallelPool")]
[OutputType(typeof(TaskPool))]
public sealed class GetParallelPoolCommand : SyncPoolCmdlet
{
    /// <summary>Pool names to return (wildcards allowed).</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(PoolNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Pool ids to return.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(PoolIdCompleter))]
    public long[]? Id { get; set; }

    protected override void ProcessRecord()
    {
        EngineFaults.Report(this);
        var pools = TaskEngine.Pools();
        if (Id is not null)
        {
            foreach (long id in Id)
                if (!pools.Any(p => p.Id == id)) WriteError(ParallelLookup.PoolNotFound(id));
            pools = pools.Where(p => Id.Contains(p.Id)).ToList();
        }
        if (Name is null)
        {
            foreach (var pool in pools) WriteObject(pool);
            return;
        }
        foreach (string name in Name)
        {
            var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
            var found = pools.Where(p => p.Name is not null && pattern.IsMatch(p.Name)).ToList();
            foreach (var pool in found) WriteObject(pool);
            if (found.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
            {
                WriteError(ParallelLookup.PoolNotFound(name));
            }
        }
    }
}
