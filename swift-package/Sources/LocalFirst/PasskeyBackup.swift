// Passkey backup through AuthenticationServices (iOS 16+, macOS 13+). Thin on purpose: the
// request fields come from the core (`PasskeyCeremony`) and the answer is checked by the
// core (`secretFromAssertion(authenticatorData:userHandle:)`), the path the Kotlin and Rust
// suites run against the assertion corpus. Written to the SDK, not built here.
#if canImport(AuthenticationServices) && (os(iOS) || os(macOS))
import AuthenticationServices
import Foundation
#if os(iOS)
import UIKit
#else
import AppKit
#endif

/// Passkey backup of the account secret, byte-compatible with Jazz's browser passkey backup:
/// the secret is the user handle (`userID`) of a platform passkey on `relyingPartyId`.
///
/// The app needs the Associated Domains entitlement `webcredentials:<relyingPartyId>` and
/// the domain's `apple-app-site-association` listing it (docs/RECOVERY.md). Every failure is
/// a `LocalFirstError` with the catalogue's code: `not-supported` (before iOS 16 / macOS 13, or
/// the request was not handled), `create-failed`, `get-failed`, `no-credential` (none found,
/// or the user dismissed the sheet), and from the core `invalid-credential` and
/// `verification-failed`.
public final class PasskeyBackup: @unchecked Sendable {
    private let ceremony: PasskeyCeremony
    private let anchor: @MainActor () -> ASPresentationAnchor

    /// A backup for `appName` on `relyingPartyId` (`myapp.example`). The passkey sheets are
    /// shown over `anchor()`, by default the app's key window. Throws `LocalFirstError`
    /// `invalid-argument` for a bad name or id.
    public init(
        appName: String,
        relyingPartyId: String,
        anchor: @escaping @MainActor () -> ASPresentationAnchor = PasskeyBackup.keyWindow
    ) throws {
        ceremony = try PasskeyCeremony(appName: appName, relyingPartyId: relyingPartyId)
        self.anchor = anchor
    }

    /// The relying-party id passkeys are made and looked up under.
    public var relyingPartyId: String { ceremony.relyingPartyId() }

    /// Creates a passkey whose user handle is `secret`, shown as `displayName`.
    @MainActor
    public func backup(secret: AuthSecret, displayName: String) async throws {
        guard #available(iOS 16.0, macOS 13.0, *) else { throw Self.tooOld() }
        let request = try ceremony.registrationRequest(secret: secret, displayName: displayName)
        let provider = ASAuthorizationPlatformPublicKeyCredentialProvider(relyingPartyIdentifier: request.rpId())
        let registration = provider.createCredentialRegistrationRequest(
            challenge: request.challenge(), name: request.userName(), userID: request.userId()
        )
        registration.displayName = request.userDisplayName()
        registration.userVerificationPreference = .required
        do {
            _ = try await AuthorizationSession(anchor: anchor()).perform(registration)
        } catch {
            throw Self.mapped(error, otherwise: .createFailed, canceled: .createFailed)
        }
    }

    /// Asks for a passkey of `relyingPartyId` (the user picks) and returns the secret it
    /// carries, after the core checked the assertion (user present and verified, a 32-byte
    /// user handle).
    @MainActor
    public func restore() async throws -> AuthSecret {
        guard #available(iOS 16.0, macOS 13.0, *) else { throw Self.tooOld() }
        let request = try ceremony.assertionRequest()
        let provider = ASAuthorizationPlatformPublicKeyCredentialProvider(relyingPartyIdentifier: request.rpId())
        let assertion = provider.createCredentialAssertionRequest(challenge: request.challenge())
        assertion.userVerificationPreference = .required
        let authorization: ASAuthorization
        do {
            authorization = try await AuthorizationSession(anchor: anchor()).perform(assertion)
        } catch {
            // Dismissing the sheet is "no credential chosen"; iOS shows the same sheet
            // (and the same error) when the device has no passkey for the id.
            throw Self.mapped(error, otherwise: .getFailed, canceled: .noCredential)
        }
        guard let credential = authorization.credential as? ASAuthorizationPlatformPublicKeyCredentialAssertion else {
            throw passkeyPlatformError(failure: .noCredential, reason: "the authorization carried no passkey assertion")
        }
        return try secretFromAssertion(
            authenticatorData: credential.rawAuthenticatorData ?? Data(),
            userHandle: credential.userID
        )
    }

    /// The key window of the app's foreground scene (a new window if there is none).
    @MainActor
    public static func keyWindow() -> ASPresentationAnchor {
        #if os(iOS)
        let windows = UIApplication.shared.connectedScenes
            .compactMap { $0 as? UIWindowScene }
            .flatMap(\.windows)
        return windows.first(where: \.isKeyWindow) ?? windows.first ?? ASPresentationAnchor()
        #else
        return NSApplication.shared.keyWindow ?? ASPresentationAnchor()
        #endif
    }

    private static func tooOld() -> LocalFirstError {
        passkeyPlatformError(failure: .notSupported, reason: "passkeys need iOS 16 or macOS 13 or later")
    }

    /// `ASAuthorizationError` codes to the catalogue: cancelled → `canceled`, not handled →
    /// `not-supported`, anything else → `otherwise`.
    private static func mapped(
        _ error: Error,
        otherwise: PasskeyPlatformFailure,
        canceled: PasskeyPlatformFailure
    ) -> Error {
        if error is LocalFirstError { return error }
        let reason = String(describing: error)
        guard let authorization = error as? ASAuthorizationError else {
            return passkeyPlatformError(failure: otherwise, reason: reason)
        }
        switch authorization.code {
        case .canceled:
            return passkeyPlatformError(failure: canceled, reason: reason)
        case .notHandled:
            return passkeyPlatformError(failure: .notSupported, reason: reason)
        default:
            return passkeyPlatformError(failure: otherwise, reason: reason)
        }
    }
}

/// One `ASAuthorizationController` run as an `async` call: the delegate callbacks (on the
/// main thread) resume the continuation exactly once. The caller keeps the session alive
/// across the `await` (the controller's delegate is weak).
@MainActor
private final class AuthorizationSession: NSObject, ASAuthorizationControllerDelegate,
    ASAuthorizationControllerPresentationContextProviding
{
    private let anchor: ASPresentationAnchor
    private var continuation: CheckedContinuation<ASAuthorization, Error>?
    private var controller: ASAuthorizationController?

    init(anchor: ASPresentationAnchor) {
        self.anchor = anchor
    }

    func perform(_ request: ASAuthorizationRequest) async throws -> ASAuthorization {
        try await withCheckedThrowingContinuation { continuation in
            self.continuation = continuation
            let controller = ASAuthorizationController(authorizationRequests: [request])
            controller.delegate = self
            controller.presentationContextProvider = self
            self.controller = controller
            controller.performRequests()
        }
    }

    nonisolated func authorizationController(
        controller: ASAuthorizationController,
        didCompleteWithAuthorization authorization: ASAuthorization
    ) {
        MainActor.assumeIsolated { finish(.success(authorization)) }
    }

    nonisolated func authorizationController(
        controller: ASAuthorizationController,
        didCompleteWithError error: Error
    ) {
        MainActor.assumeIsolated { finish(.failure(error)) }
    }

    nonisolated func presentationAnchor(for controller: ASAuthorizationController) -> ASPresentationAnchor {
        MainActor.assumeIsolated { anchor }
    }

    private func finish(_ result: Result<ASAuthorization, Error>) {
        let pending = continuation
        continuation = nil
        controller = nil
        pending?.resume(with: result)
    }
}
#endif
