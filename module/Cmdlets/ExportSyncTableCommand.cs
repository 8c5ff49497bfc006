using System;
using System.IO;
using System.Management.Automation;
using SyncPool.Table;

namespace SyncPool.Cmdlets;

/// <summary>
/// Export-SyncTable: writes a table to a file. JSON (default) keeps every
/// natively stored type exactly and refuses live objects by key; -AsClixml
/// serializes live objects too, to -Depth, the way Export-Clixml does.
/// </summary>
[Cmdlet(VerbsData.Export, "SyncTable", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportSyncTableCommand : SyncPoolCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public SyncTable Table { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = null!;

    /// <summary>Serialize with PowerShell's CLIXML (allows live objects, as property bags).</summary>
    [Parameter]
    public SwitchParameter AsClixml { get; set; }

    /// <summary>CLIXML depth for live objects (implies -AsClixml).</summary>
    [Parameter]
    [ValidateRange(1, 100)]
    public int Depth { get; set; } = 2;

    /// <summary>Overwrite an existing file.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        string path = GetUnresolvedProviderPathFromPSPath(Path);
        if (File.Exists(path) && !Force)
        {
            WriteError(new ErrorRecord(new IOException($"The file '{path}' already exists. Use -Force to overwrite it."),
                "SyncPool.FileExists", ErrorCategory.ResourceExists, path));
            return;
        }
        if (!ShouldProcess(path, "Export SyncTable")) return;
        try
        {
            bool clixml = AsClixml || MyInvocation.BoundParameters.ContainsKey(nameof(Depth));
            string text = clixml ? PSSerializer.Serialize(Table.Snapshot(), Depth) : Table.ExportJson();
            File.WriteAllText(path, text, new System.Text.UTF8Encoding(false));
            if (PassThru) WriteObject(new FileInfo(path));
        }
        catch (Exception e)
        {
            WriteFailure(e, path);
        }
    }
}
