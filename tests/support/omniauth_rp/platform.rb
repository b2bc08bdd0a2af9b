# A minimal Rack platform that logs residents in with omniauth_openid_connect (Debian's
# ruby-omniauth-openid-connect, the strategy Decidim, Consul, Mastodon and GitLab use), unchanged,
# configured with the options `kluis clients add --preset decidim|consul|mastodon` printed
# (docs/platforms/omniauth.md). Run by tests/e2e/platforms/test_omniauth.py:
#
#   OMNIAUTH_OPTIONS='{…}' PATH_PREFIX=/users/auth PORT=… ruby platform.rb
#
# Pages (PREFIX/NAME is the platform's omniauth path, e.g. /users/auth/openid_connect):
# GET / (a "sign in with Kluis" button: a POST form to PREFIX/NAME with omniauth's CSRF token,
# as omniauth 2 requires), GET PREFIX/NAME/callback (stores the omniauth auth hash in the
# session), GET /me (that hash as JSON, 401 when signed out), POST /sign-out (ends the
# platform's session and goes on to the strategy's logout path PREFIX/NAME/logout, which sends
# the browser to Kluis's end-session endpoint), GET PREFIX/failure (omniauth's failures).
require 'json'
require 'logger'
require 'securerandom'
require 'rack'
require 'rack/utils'
require 'webrick'
require 'omniauth'
require 'omniauth_openid_connect'

PORT = Integer(ENV.fetch('PORT'))
PREFIX = ENV.fetch('PATH_PREFIX')
# The printed options, as JSON: names and symbols in Ruby are strings here.
OPTIONS = JSON.parse(ENV.fetch('OMNIAUTH_OPTIONS'), symbolize_names: true)
OPTIONS[:name] = OPTIONS[:name].to_sym
OPTIONS[:scope] = OPTIONS[:scope].map(&:to_sym)
OPTIONS[:response_type] = OPTIONS[:response_type].to_sym
OPTIONS[:client_auth_method] = OPTIONS[:client_auth_method].to_sym
ISSUER = OPTIONS[:issuer]
STRATEGY = "#{PREFIX}/#{OPTIONS[:name]}"

if ISSUER.start_with?('http://')
  # openid_connect's discovery builds https URLs; a development Kluis on loopback speaks http.
  SWD.url_builder = URI::HTTP
  WebFinger.url_builder = URI::HTTP
end

OmniAuth.config.logger = Logger.new($stderr)
OmniAuth.config.path_prefix = PREFIX

class Platform
  def call(env)
    request = Rack::Request.new(env)
    session = env['rack.session']
    case [request.request_method, request.path_info]
    when ['GET', '/']
      token = Rack::Protection::AuthenticityToken.token(session)
      html(200, <<~HTML)
        <form id="sign-in" method="post" action="#{STRATEGY}">
          <input type="hidden" name="authenticity_token" value="#{Rack::Utils.escape_html(token)}">
          <button type="submit">Inloggen met Kluis</button>
        </form>
      HTML
    when ['GET', "#{STRATEGY}/callback"]
      auth = env['omniauth.auth']
      session['user'] = {
        'provider' => auth['provider'],
        'uid' => auth['uid'],
        'info' => auth['info'].to_hash.compact,
        'raw_info' => auth['extra']['raw_info'].to_hash,
        'credentials' => {
          'has_token' => !auth['credentials']['token'].to_s.empty?,
          'has_refresh_token' => !auth['credentials']['refresh_token'].to_s.empty?,
          'expires_in' => auth['credentials']['expires_in'],
          'scope' => auth['credentials']['scope'],
        },
      }
      [302, { 'Location' => '/me' }, []]
    when ['GET', '/me']
      user = session['user']
      return json(401, { 'signed_in' => false }) unless user
      json(200, user.merge('signed_in' => true))
    when ['POST', '/sign-out']
      session.clear
      [302, { 'Location' => "#{STRATEGY}/logout" }, []]
    when ['GET', "#{PREFIX}/failure"]
      json(401, { 'error' => request.params['message'], 'strategy' => request.params['strategy'] })
    else
      html(404, '<p>Niet gevonden</p>')
    end
  end

  private

  def html(status, body)
    [status, { 'Content-Type' => 'text/html; charset=utf-8' }, [body]]
  end

  def json(status, value)
    [status, { 'Content-Type' => 'application/json' }, [JSON.dump(value)]]
  end
end

app = Rack::Builder.new do
  use Rack::Session::Cookie, key: 'platform.session', secret: SecureRandom.hex(64), same_site: :lax
  use OmniAuth::Builder do
    provider :openid_connect, OPTIONS
  end
  run Platform.new
end

$stdout.sync = true
Rack::Handler::WEBrick.run(
  app,
  Host: '127.0.0.1',
  Port: PORT,
  AccessLog: [],
  Logger: WEBrick::Log.new($stderr, WEBrick::Log::WARN)
) do |server|
  trap('TERM') { server.shutdown }
end
