using System.Management.Automation;
using SyncPool.Table;

namespace SyncPool.Cmdlets;

/// <summary>Remove-SyncTable: disposes a table (and forgets its name). Its data is gone afterwards.</summary>
[Cmdlet(VerbsCommon.Remove, "SyncTable", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = "Table")]
public sealed class RemoveSyncTableCommand : SyncPoolCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = "Table")]
    public SyncTable[] Table { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = "Name")]
    [ArgumentCompleter(typeof(SyncTableNameCompleter))]
    public string[] Name { get; set; } = [];

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

    private void Remove(SyncTable table)
    {
        string label = table.Name is null ? "unnamed SyncTable" : $"SyncTable '{table.Name}'";
        if (ShouldProcess(label, "Remove (dispose) table and all its entries")) table.Dispose();
    }
}
