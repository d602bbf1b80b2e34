package api

// PortalAccess exposes portalAccess to the black-box tests.
var PortalAccess = portalAccess
