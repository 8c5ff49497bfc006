using System;
using System.IO;
using System.Management.Automation;
using SyncPool.Table;

namespace SyncPool.Cmdlets;

/// <summary>
/// Export-SyncTable: writes a table to a file. JSON (default) saves every
/// value as data: numbers, text, dates, arrays, hashtables, ordered
/// dictionaries and [PSCustomObject]s, nested, each read back as its own type.
/// A value that is not data (a live object) is refused, naming every such
/// key; -AsClixml serializes live objects too, to -Depth, the way
/// Export-Clixml does. The file is found like the built-in file cmdlets find
/// theirs (-Path with wildcards, -LiteralPath).
/// </summary>
[Cmdlet(VerbsData.Export, "SyncTable", SupportsShouldProcess = true, DefaultParameterSetName = PathSet)]
[OutputType(typeof(FileInfo))]
public sealed class ExportSyncTableCommand : SyncPoolCmdlet
{
    private const string PathSet = "Path";
    private const string TableFirstSet = "TableFirst";
    private const string LiteralPathSet = "LiteralPath";

    // Three sets so that both `Export-SyncTable $t file` and
    // `$t | Export-SyncTable file` work: PowerShell binds a positional
    // SyncTable to -Table before it would convert it to a -Path string.
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = PathSet)]
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = TableFirstSet)]
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = LiteralPathSet)]
    public SyncTable Table { get; set; } = null!;

    /// <summary>The file to write; wildcards must match exactly one existing file.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = TableFirstSet)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string Path { get; set; } = null!;

    /// <summary>The file to write, exactly as written (no wildcards).</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string LiteralPath { get; set; } = null!;

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

    /// <summary>Files this command wrote, so a second table piped to the same file cannot silently replace the first.</summary>
    private readonly System.Collections.Generic.HashSet<string> _written = new(StringComparer.Ordinal);

    protected override void ProcessRecord()
    {
        bool literal = ParameterSetName == LiteralPathSet;
        string? file = SyncTableFiles.ForWriting(this, literal ? LiteralPath : Path, literal);
        if (file is null) return;
        if (_written.Contains(file))
        {
            WriteError(new ErrorRecord(new IOException($"The file '{file}' already holds a table this command exported; a file holds one table. Export each table to its own file."),
                "SyncPool.FileExists", ErrorCategory.ResourceExists, file));
            return;
        }
        if (File.Exists(file) && !Force)
        {
            WriteError(new ErrorRecord(new IOException($"The file '{file}' already exists. Use -Force to overwrite it."),
                "SyncPool.FileExists", ErrorCategory.ResourceExists, file));
            return;
        }
        if (!ShouldProcess(file, "Export SyncTable")) return;
        string text;
        try
        {
            bool clixml = AsClixml || MyInvocation.BoundParameters.ContainsKey(nameof(Depth));
            text = clixml ? PSSerializer.Serialize(Table.Snapshot(), Depth) : Table.ExportJson();
        }
        catch (Exception e)
        {
            WriteFailure(e, Table);
            return;
        }
        try
        {
            File.WriteAllText(file, text, new System.Text.UTF8Encoding(false));
            _written.Add(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            WriteError(SyncTableFiles.Failure(e, file, writing: true));
            return;
        }
        if (PassThru) WriteObject(new FileInfo(file));
    }
}
