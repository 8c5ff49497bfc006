# Helpers shared by the *.bench.ps1 scripts. Dot-sourced: the state below lives
# in the calling script's scope, and the functions also read its $ResultsDir and
# $ModulePath parameters.

$script:Stamp = [DateTime]::UtcNow.ToString('yyyyMMdd-HHmmss', [System.Globalization.CultureInfo]::InvariantCulture)
$script:ReportLines = [System.Collections.Generic.List[string]]::new()
$script:Failures = [System.Collections.Generic.List[string]]::new()

function Write-Report {
    param([string]$Text = '')
    Write-Host $Text
    $script:ReportLines.Add($Text)
}

function Add-Failure {
    param([string]$Message)
    $script:Failures.Add($Message)
    Write-Report "**FAIL**: $Message"
}

function Format-Number {
    param([double]$Value, [string]$Format = 'N2')
    if ([double]::IsNaN($Value) -or [double]::IsInfinity($Value)) { return 'n/a' }
    $Value.ToString($Format, [System.Globalization.CultureInfo]::InvariantCulture)
}

function Get-Verdict {
    param([double]$Value, [double]$Limit, [ValidateSet('AtMost', 'AtLeast')][string]$Direction)
    if ([double]::IsNaN($Value) -or [double]::IsInfinity($Value)) { return 'n/a' }
    $ok = if ($Direction -eq 'AtLeast') { $Value -ge $Limit } else { $Value -le $Limit }
    if ($ok) { 'met' } else { 'NOT met' }
}

function Get-Median {
    param([double[]]$Values)
    if ($null -eq $Values -or $Values.Count -eq 0) { return [double]::NaN }
    $sorted = @($Values | Sort-Object)
    $mid = [int][math]::Floor($sorted.Count / 2)
    if ($sorted.Count % 2 -eq 1) { return [double]$sorted[$mid] }
    return ([double]$sorted[$mid - 1] + [double]$sorted[$mid]) / 2
}

function Save-Report {
    param([string]$Name)
    $text = ($script:ReportLines -join "`n") + "`n"
    $file = Join-Path $ResultsDir "$Name-$($script:Stamp).md"
    [System.IO.File]::WriteAllText($file, $text)
    [System.IO.File]::WriteAllText((Join-Path $ResultsDir "$Name-latest.md"), $text)
    Write-Host ''
    Write-Host "written: $file"
}

function Invoke-Settle {
    for ($s = 0; $s -lt 3; $s++) { [GC]::Collect(); [GC]::WaitForPendingFinalizers() }
    [GC]::Collect(2, [GCCollectionMode]::Forced, $true, $true)
}

# The machine and versions every results file starts with.
function Write-EnvironmentReport {
    Write-Report "- cores: $([Environment]::ProcessorCount)"
    Write-Report "- PowerShell: $($PSVersionTable.PSVersion)"
    Write-Report "- .NET: $([System.Runtime.InteropServices.RuntimeInformation]::FrameworkDescription)"
    Write-Report "- OS: $([System.Runtime.InteropServices.RuntimeInformation]::OSDescription.Trim()) ($([System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture))"
    Write-Report "- run: $([DateTime]::UtcNow.ToString('yyyy-MM-dd HH:mm:ss', [System.Globalization.CultureInfo]::InvariantCulture)) UTC; module $ModulePath"
}
