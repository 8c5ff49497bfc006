using System;
using System.Management.Automation;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>
/// Remove-ParallelPool: removes a pool. Queued tasks never run, running ones
/// are stopped (escalating as for any stop), and the pool and its tasks leave
/// Get-ParallelPool and Get-ParallelTask. Its tasks keep their results and
/// final state for whoever still holds them.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "ParallelPool", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = "Pool")]
public sealed class RemoveParallelPoolCommand : SyncPoolCmdlet
{
    /// <summary>The pools to remove (from New-ParallelPool or Get-ParallelPool), or their names or ids.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = "Pool")]
    [PoolTransformation]
    [ArgumentCompleter(typeof(PoolNameCompleter))]
    [ValidateNotNull]
    public TaskPool[]? Pool { get; set; }

    /// <summary>Names of the pools to remove.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Name")]
    [ArgumentCompleter(typeof(PoolNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        if (Pool is not null)
        {
            foreach (var pool in Pool)
            {
                if (pool.NotFoundKey is { } missing) WriteError(ParallelLookup.PoolNotFound(missing));
                else Remove(pool);
            }
            return;
        }
        foreach (string name in Name ?? Array.Empty<string>())
        {
            if (TaskEngine.FindPool(name) is { } pool) Remove(pool);
            else WriteError(ParallelLookup.PoolNotFound(name));
        }
    }

    private void Remove(TaskPool pool)
    {
        if (!ShouldProcess(pool.ToString(), "Remove parallel pool (stops its tasks)")) return;
        try
        {
            pool.Remove();
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            WriteFailure(e, pool);
        }
    }
}
