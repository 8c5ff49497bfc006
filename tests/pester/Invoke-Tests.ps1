<#
.SYNOPSIS
    Runs every Pester suite in this folder against a staged SyncPool module.
.DESCRIPTION
    Called by the Test task in a fresh pwsh process. Ends with the plain line
    'N passed, N failed, N skipped' that the build sums across suites.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $PesterPath
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterPath -MinimumVersion 5.0 -Force
$env:SYNCPOOL_MODULE_PATH = (Resolve-Path $ModulePath).Path

$config = New-PesterConfiguration
$config.Run.Path = $PSScriptRoot
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$result = Invoke-Pester -Configuration $config

"$($result.PassedCount) passed, $($result.FailedCount) failed, $($result.SkippedCount) skipped"
exit ([int]($result.FailedCount -gt 0 -or $result.Result -ne 'Passed'))
