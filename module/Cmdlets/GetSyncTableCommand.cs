using System.Linq;
using System.Management.Automation;
using SyncPool.Table;

namespace SyncPool.Cmdlets;

/// <summary>Get-SyncTable: finds named tables (created with New-SyncTable -Name) from any runspace.</summary>
[Cmdlet(VerbsCommon.Get, "SyncTable")]
[OutputType(typeof(SyncTable))]
public sealed class GetSyncTableCommand : SyncPoolCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(SyncTableNameCompleter))]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        if (Name is null)
        {
            foreach (var table in SyncTableRegistry.All.OrderBy(t => t.Name)) WriteObject(PortableTable.ForPipeline(table));
            return;
        }
        foreach (var name in Name)
        {
            if (WildcardPattern.ContainsWildcardCharacters(name))
            {
                var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
                foreach (var table in SyncTableRegistry.All.Where(t => pattern.IsMatch(t.Name)).OrderBy(t => t.Name)) WriteObject(PortableTable.ForPipeline(table));
            }
            else if (SyncTableRegistry.Find(name) is { } table)
            {
                WriteObject(PortableTable.ForPipeline(table));
            }
            else
            {
                WriteError(new ErrorRecord(new ItemNotFoundException($"No SyncTable named '{name}' exists. Create it with New-SyncTable -Name '{name}'."),
                    "SyncPool.TableNotFound", ErrorCategory.ObjectNotFound, name));
            }
        }
    }
}
