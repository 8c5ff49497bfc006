using System.Management.Automation;
using SyncPool.Table;

namespace SyncPool.Cmdlets;

/// <summary>
/// Remove-SyncTable: disposes a table (and forgets its name). An in-process
/// table's data is gone afterwards; a Redis table is disconnected and its
/// data stays on the server, unless -DeleteData deletes it (for every process).
/// </summary>
[Cmdlet(VerbsCommon.Remove, "SyncTable", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = "Table")]
public sealed class RemoveSyncTableCommand : SyncPoolCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = "Table")]
    public SyncTable[] Table { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = "Name")]
    [ArgumentCompleter(typeof(SyncTableNameCompleter))]
    public string[] Name { get; set; } = [];

    /// <summary>For a table on a Redis server: delete its data on the server too, for every process using it.</summary>
    [Parameter]
    public SwitchParameter DeleteData { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == "Name")
        {
            foreach (var name in Name)
            {
                if (SyncTableRegistry.Find(name) is { } named) Remove(named);
                else WriteError(new ErrorRecord(new ItemNotFoundException($"No SyncTable named '{name}' exists."),
                    "SyncPool.TableNotFound", ErrorCategory.ObjectNotFound, name));
            }
            return;
        }
        foreach (var table in Table) Remove(table);
    }

    private bool _yesToAll, _noToAll;

    /// <summary>
    /// Deleting a table's data for every process is a high-impact change,
    /// while disposing one is not (the cmdlet's ConfirmImpact is Medium): asks
    /// as a ConfirmImpact High cmdlet would, unless ShouldProcess has just
    /// asked (-Confirm, or $ConfirmPreference Medium or Low) or the user
    /// waived it (-Confirm:$false, $ConfirmPreference None). A host that
    /// cannot ask (pwsh -NonInteractive) fails the deletion.
    /// </summary>
    private bool ConfirmedAsHighImpact(string target)
    {
        if (MyInvocation.BoundParameters.ContainsKey("Confirm")) return true;
        var preference = GetVariableValue("ConfirmPreference") is ConfirmImpact p ? p : ConfirmImpact.High;
        if (preference != ConfirmImpact.High) return true;
        try
        {
            return ShouldContinue($"Delete the data of {target} for every process that uses it?", "Confirm", ref _yesToAll, ref _noToAll);
        }
        catch (PSInvalidOperationException e)
        {
            // A host that cannot ask (pwsh -NonInteractive): nothing is deleted.
            WriteError(new ErrorRecord(
                new System.InvalidOperationException($"Remove-SyncTable -DeleteData asks before deleting the data of {target} for every process, and this host cannot ask ({e.Message}). Add -Confirm:$false to delete it without asking.", e),
                "SyncPool.ConfirmationRequired", ErrorCategory.InvalidOperation, target));
            return false;
        }
    }

    private void Remove(SyncTable table)
    {
        string label = table.Name is null ? "unnamed SyncTable" : $"SyncTable '{table.Name}'";
        if (table.RedisAddress is null)
        {
            if (ShouldProcess(label, "Remove (dispose) table and all its entries")) table.Dispose();
            return;
        }
        try
        {
            if (DeleteData)
            {
                string target = $"{label} on {table.RedisAddress}";
                if (ShouldProcess(target, "Delete the table's data on the Redis server (for every process) and disconnect") && ConfirmedAsHighImpact(target))
                    table.DeleteData();
            }
            else if (ShouldProcess($"{label} on {table.RedisAddress}", "Disconnect (the data stays on the server)"))
            {
                table.Dispose();
            }
        }
        catch (System.Exception e)
        {
            WriteFailure(e, table.Name);
        }
    }
}
