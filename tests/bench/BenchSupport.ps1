# Helpers shared by the *.bench.ps1 scripts (dot-sourced; they use the calling
# script's $script:ReportLines, $script:Failures, $script:Stamp and $ResultsDir).

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
